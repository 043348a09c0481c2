import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { unwrap } from "@/lib/api/client";
import { useApiClient } from "@/lib/api/context";
import type { AIRulesInput, AISettings } from "@/lib/api/types";

import { queryKeys } from "./keys";
import { aiSettingsQuery } from "./options";

/** The org's AI rules, what is always redacted, and this period's AI calls. */
export function useAISettings(org: string) {
  const { api } = useApiClient();
  return useQuery(aiSettingsQuery(api, org));
}

/** Changes some of the org's AI rules; the page shows the rules the server answers with. */
export function useUpdateAIRules(org: string) {
  const { api } = useApiClient();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (input: AIRulesInput) =>
      unwrap(await api.PATCH("/api/v2/orgs/{org}/ai/rules", { params: { path: { org } }, body: input })),
    onSuccess: async (rules) => {
      queryClient.setQueryData<AISettings>(queryKeys.ai(org), (current) => (current ? { ...current, rules } : current));
      await queryClient.invalidateQueries({ queryKey: queryKeys.ai(org) });
    },
  });
}
