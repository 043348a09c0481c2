import { useQuery } from "@tanstack/react-query";

import { useApiClient } from "@/lib/api/context";
import type { Me, Org } from "@/lib/api/types";

import { meQuery, optionalMeQuery } from "./options";

export function useMe() {
  const { api } = useApiClient();
  return useQuery(meQuery(api));
}

/** The person's membership in `org`, or undefined when they are not (or no longer) a member. */
export function orgOf(me: Me | undefined, org: string): Org | undefined {
  return me?.orgs.find((candidate) => candidate.slug === org);
}

/** Whether the person's role in the org holds `permission` (the API still decides). */
export function can(membership: Pick<Org, "permissions"> | undefined, permission: string): boolean {
  return membership?.permissions.includes(permission) ?? false;
}

/**
 * The logged-in person, or null for a visitor (no redirect to the login page): for pages that
 * anyone may open, such as an invitation link.
 */
export function useOptionalMe() {
  const { api } = useApiClient();
  return useQuery(optionalMeQuery(api));
}

/**
 * The person's membership in `org` and what it allows, for pages that show or hide controls by
 * permission. `isPending` while the person is loading (then nothing is allowed yet).
 */
export function useOrgAccess(org: string) {
  const meQuery = useMe();
  const membership = orgOf(meQuery.data, org);
  return {
    membership,
    isPending: meQuery.isPending,
    can: (permission: string) => can(membership, permission),
  };
}
