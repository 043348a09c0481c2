import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { unwrap } from "@/lib/api/client";
import { useApiClient } from "@/lib/api/context";
import type { SecuritySettings, SecuritySettingsInput } from "@/lib/api/types";

import { queryKeys } from "./keys";
import { securityQuery } from "./options";

/** The org's security settings. */
export function useSecuritySettings(org: string) {
  const { api } = useApiClient();
  return useQuery(securityQuery(api, org));
}

/** Changes the org's security settings; the person's own standing there (`/me`) is loaded again. */
export function useUpdateSecuritySettings(org: string) {
  const { api } = useApiClient();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (input: SecuritySettingsInput) =>
      unwrap(await api.PATCH("/api/v2/orgs/{org}/security", { params: { path: { org } }, body: input })),
    onSuccess: async (settings) => {
      queryClient.setQueryData<SecuritySettings>(queryKeys.security(org), settings);
      await queryClient.invalidateQueries({ queryKey: queryKeys.me });
    },
  });
}
