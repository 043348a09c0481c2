import { HydrationBoundary } from "@tanstack/react-query";
import type { Metadata } from "next";

import { BillingScreen } from "@/components/billing/BillingScreen";
import { checkoutReturnOf } from "@/lib/billing";
import { billingQuery } from "@/lib/queries/billing";
import { prefetch } from "@/lib/server/api";

export const metadata: Metadata = { title: "Billing" };

/** The org's billing; Stripe's Checkout and portal send the browser back here (`?checkout=success|canceled`). */
export default async function BillingPage({
  params,
  searchParams,
}: {
  params: Promise<{ org: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const org = decodeURIComponent((await params).org);
  const checkoutReturn = checkoutReturnOf((await searchParams).checkout);
  const state = await prefetch((queryClient, api) => queryClient.prefetchQuery(billingQuery(api, org)));
  return (
    <HydrationBoundary state={state}>
      <BillingScreen org={org} checkoutReturn={checkoutReturn} />
    </HydrationBoundary>
  );
}
