import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { unwrap } from "@/lib/api/client";
import { useApiClient } from "@/lib/api/context";
import type { OrgExportPage } from "@/lib/api/types";
import { isExportPending } from "@/lib/data-rights";
import { POLL_MIN_MS } from "@/lib/tasks";

import { queryKeys } from "./keys";
import { exportListQuery } from "./options";

/** While an export is being made, the list is asked again this often (a person watches its bar). */
export const EXPORT_POLL_MS = POLL_MIN_MS;

/** The org's newest exports (an owner's), polled while one of them is being made. */
export function useExports(org: string, enabled = true) {
  const { api } = useApiClient();
  return useQuery({
    ...exportListQuery(api, org),
    enabled,
    refetchInterval: (query) => (query.state.data?.items.some(isExportPending) ? EXPORT_POLL_MS : false),
  });
}

/** Starts an export of all of the org's data; it joins the top of the list at once. */
export function useStartExport(org: string) {
  const { api } = useApiClient();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/v2/orgs/{org}/exports", { params: { path: { org } } })),
    onSuccess: async (created) => {
      queryClient.setQueryData<OrgExportPage>(queryKeys.exports(org), (page) =>
        page ? { ...page, items: [created, ...page.items.filter((item) => item.id !== created.id)] } : page,
      );
      await queryClient.invalidateQueries({ queryKey: queryKeys.exports(org) });
    },
  });
}

/**
 * Deletes the org (the owner typed its slug). The person's orgs (`/me`) are marked stale, to be
 * asked again by the page they go to next, not while this one is still shown.
 */
export function useDeleteOrg(org: string) {
  const { api } = useApiClient();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (confirm: string) =>
      unwrap(await api.POST("/api/v2/orgs/{org}/deletion", { params: { path: { org } }, body: { confirm } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.me, refetchType: "none" }),
  });
}
