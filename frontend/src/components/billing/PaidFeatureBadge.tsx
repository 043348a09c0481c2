"use client";

import { Badge } from "@/components/ui";
import type { Feature } from "@/lib/billing";
import { useEntitlements } from "@/lib/queries/billing";

/**
 * Marks a paid feature the org's plan lacks with the plan that adds it ("Pro", "Business"); shows
 * nothing when the plan includes it or while that is not known.
 */
export function PaidFeatureBadge({ org, feature, className }: { org: string; feature: Feature; className?: string }) {
  const entitlements = useEntitlements(org);
  if (entitlements.has(feature) !== false) return null;
  const plan = entitlements.planWith(feature);
  return (
    <Badge tone="accent" className={className}>
      <span aria-hidden="true">{plan?.name ?? "Paid"}</span>
      <span className="sr-only">{plan ? ` (needs the ${plan.name} plan)` : " (needs a paid plan)"}</span>
    </Badge>
  );
}
