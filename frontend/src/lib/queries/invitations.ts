import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { expectOk, IDEMPOTENCY_HEADER, unwrap } from "@/lib/api/client";
import { useApiClient } from "@/lib/api/context";

import { queryKeys } from "./keys";

/** The invitations addressed to the logged-in person (empty until their email is verified). */
export function useMyInvitations(enabled = true) {
  const { api } = useApiClient();
  return useQuery({
    queryKey: queryKeys.myInvitations,
    queryFn: async () => unwrap(await api.GET("/api/v2/me/invitations")),
    enabled,
  });
}

/** What an invitation link offers: org, role, who sent it. Anyone holding the link may look. */
export function useInvitation(token: string) {
  const { api } = useApiClient();
  return useQuery({
    queryKey: queryKeys.invitation(token),
    queryFn: async () => unwrap(await api.GET("/api/v2/invitations/{token}", { params: { path: { token } } })),
  });
}

function useAfterMembershipChange() {
  const queryClient = useQueryClient();
  return async () => {
    await queryClient.invalidateQueries({ queryKey: queryKeys.me });
  };
}

export function useAcceptInvitationByToken() {
  const { api } = useApiClient();
  const refresh = useAfterMembershipChange();
  return useMutation({
    mutationFn: async (token: string) => unwrap(await api.POST("/api/v2/invitations/accept", { body: { token } })),
    onSuccess: refresh,
  });
}

export function useDeclineInvitationByToken() {
  const { api } = useApiClient();
  const refresh = useAfterMembershipChange();
  return useMutation({
    mutationFn: async (token: string) => expectOk(await api.POST("/api/v2/invitations/decline", { body: { token } })),
    onSuccess: refresh,
  });
}

export function useAnswerMyInvitation() {
  const { api } = useApiClient();
  const refresh = useAfterMembershipChange();
  return useMutation({
    mutationFn: async ({ id, answer }: { id: number; answer: "accept" | "decline" }) => {
      if (answer === "accept") {
        return unwrap(
          await api.POST("/api/v2/me/invitations/{invitation_id}/accept", { params: { path: { invitation_id: id } } }),
        );
      }
      expectOk(
        await api.POST("/api/v2/me/invitations/{invitation_id}/decline", { params: { path: { invitation_id: id } } }),
      );
      return null;
    },
    onSuccess: refresh,
  });
}

export function useCreateOrg() {
  const { api } = useApiClient();
  const refresh = useAfterMembershipChange();
  return useMutation({
    mutationFn: async ({ name, idempotencyKey }: { name: string; idempotencyKey: string }) =>
      unwrap(await api.POST("/api/v2/orgs", { body: { name }, headers: { [IDEMPOTENCY_HEADER]: idempotencyKey } })),
    onSuccess: refresh,
  });
}
