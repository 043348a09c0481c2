/**
 * The org's billing (plan, usage, invoices), Checkout and the customer portal, and what the org's
 * plan includes for other pages (`useEntitlements`).
 */
import { queryOptions, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { Client } from "openapi-fetch";
import { useCallback } from "react";

import { IDEMPOTENCY_HEADER, unwrap } from "@/lib/api/client";
import { useApiClient } from "@/lib/api/context";
import type { paths } from "@/lib/api/schema";
import { cheapestPlanWith, type Billing, type Feature, type Plan } from "@/lib/billing";

import { queryKeys } from "./keys";
import { useOrgAccess } from "./me";

/**
 * `GET …/billing`, which answers from the database alone (it renders while Stripe is down). Shared
 * by the server's first render and the browser, like the options in `options.ts`.
 */
export function billingQuery(api: Client<paths>, org: string) {
  return queryOptions({
    queryKey: queryKeys.billing(org),
    queryFn: async () => unwrap(await api.GET("/api/v2/orgs/{org}/billing", { params: { path: { org } } })),
    staleTime: 10_000,
  });
}

/**
 * The org's billing. `refetchInterval` polls it (the billing page, while it waits for Stripe's
 * webhook after Checkout), told the data and how many answers came so far; `enabled: false` for a
 * person whose role cannot read billing.
 */
export function useBilling(
  org: string,
  options: { enabled?: boolean; refetchInterval?: (data: Billing | undefined, answers: number) => number | false } = {},
) {
  const { api } = useApiClient();
  const { enabled = true, refetchInterval } = options;
  return useQuery({
    ...billingQuery(api, org),
    enabled,
    ...(refetchInterval
      ? {
          refetchInterval: (query: { state: { data: Billing | undefined; dataUpdateCount: number; errorUpdateCount: number } }) =>
            refetchInterval(query.state.data, query.state.dataUpdateCount + query.state.errorUpdateCount),
        }
      : {}),
  });
}

/** Starts Stripe Checkout for a paid plan; answers the URL to send the browser to. */
export function useCheckout(org: string) {
  const { api } = useApiClient();
  return useMutation({
    mutationFn: async ({ plan, idempotencyKey }: { plan: string; idempotencyKey: string }) =>
      unwrap(
        await api.POST("/api/v2/orgs/{org}/billing/checkout", {
          params: { path: { org } },
          body: { plan },
          headers: { [IDEMPOTENCY_HEADER]: idempotencyKey },
        }),
      ),
  });
}

/** Opens a session of Stripe's customer portal; answers the URL to send the browser to. */
export function usePortal(org: string) {
  const { api } = useApiClient();
  return useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/v2/orgs/{org}/billing/portal", { params: { path: { org } } })),
  });
}

/** After the plan changed: the plan's allowances show on other pages too (the AI page). */
export function useAfterPlanChange(org: string) {
  const queryClient = useQueryClient();
  return useCallback(() => queryClient.invalidateQueries({ queryKey: queryKeys.ai(org) }), [queryClient, org]);
}

export interface Entitlements {
  /** While the person or the org's billing loads: nothing is known yet. */
  isPending: boolean;
  /** The plan in force, when known. */
  plan: Plan | undefined;
  /**
   * Whether the org's plan includes `feature`: undefined while loading, or when the person's role
   * cannot read billing. Then show the control and let the API's 402 explain (it still decides).
   */
  has: (feature: Feature) => boolean | undefined;
  /** The cheapest plan that includes `feature` (to say "Needs Pro"), when known. */
  planWith: (feature: Feature) => Plan | undefined;
}

/**
 * What the org's plan includes now (`api_keys`, `custom_roles`, `audit_log`), for pages that hide
 * or mark a paid feature the org lacks. It reads `GET …/billing` (every built-in role may), and
 * asks nothing when the person's role lacks `billing.read`.
 */
export function useEntitlements(org: string): Entitlements {
  const access = useOrgAccess(org);
  const canRead = access.can("billing.read");
  const billing = useBilling(org, { enabled: canRead });
  const data = billing.data;
  return {
    isPending: access.isPending || (canRead && billing.isPending),
    plan: data?.plan,
    has: (feature) => (data ? data.entitlements.includes(feature) : undefined),
    planWith: (feature) => (data ? cheapestPlanWith(data.plans, feature) : undefined),
  };
}
