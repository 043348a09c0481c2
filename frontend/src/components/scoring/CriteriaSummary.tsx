import { Badge } from "@/components/ui";
import type { Criterion } from "@/lib/api/types";
import { weightShares } from "@/lib/criteria-form";
import { formatNumber, formatPercent } from "@/lib/format";

/** A read-only list of a version's criteria with their weights as percentages. */
export function CriteriaSummary({ criteria }: { criteria: readonly Criterion[] }) {
  const shares = weightShares(criteria.map((criterion) => ({ weight: String(criterion.weight) })));
  return (
    <ul className="divide-y divide-slate-100 text-sm">
      {criteria.map((criterion, index) => (
        <li key={criterion.key} className="grid grid-cols-[1fr_auto] items-baseline gap-x-4 py-2">
          <span className="min-w-0">
            <span className="font-medium text-slate-900">{criterion.label}</span>{" "}
            {criterion.kind === "ai" ? <Badge tone="accent">AI</Badge> : null}
            <span className="block text-xs text-slate-600">
              {criterion.kind === "attribute"
                ? `Attribute “${criterion.attribute}”, ${formatNumber(criterion.min ?? 0)}–${formatNumber(criterion.max ?? 1)}${criterion.invert ? ", lower is better" : ""}`
                : criterion.rubric}
            </span>
          </span>
          <span className="text-slate-700 tabular-nums">{formatPercent(shares[index] ?? 0)}</span>
        </li>
      ))}
    </ul>
  );
}
