import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { expectOk, IDEMPOTENCY_HEADER, unwrap } from "@/lib/api/client";
import { useApiClient } from "@/lib/api/context";
import type { ApiKeyInput, InvitationInput, RoleInput, RolePatch } from "@/lib/api/types";

import { queryKeys, type AuditFilters } from "./keys";
import {
  apiKeyListQuery,
  auditListQuery,
  invitationListQuery,
  memberListQuery,
  permissionsQuery,
  rolesQuery,
} from "./options";

/** The org's members, a page at a time. */
export function useMembers(org: string, enabled = true) {
  const { api } = useApiClient();
  return useInfiniteQuery({ ...memberListQuery(api, org), enabled });
}

/** The org's pending invitations, a page at a time. */
export function useInvitations(org: string, enabled = true) {
  const { api } = useApiClient();
  return useInfiniteQuery({ ...invitationListQuery(api, org), enabled });
}

export function useRoles(org: string, enabled = true) {
  const { api } = useApiClient();
  return useQuery({ ...rolesQuery(api, org), enabled });
}

export function usePermissionCatalog(org: string, enabled = true) {
  const { api } = useApiClient();
  return useQuery({ ...permissionsQuery(api, org), enabled });
}

export function useApiKeys(org: string, enabled = true) {
  const { api } = useApiClient();
  return useInfiniteQuery({ ...apiKeyListQuery(api, org), enabled });
}

export function useAuditLog(org: string, filters: AuditFilters, enabled = true) {
  const { api } = useApiClient();
  return useInfiniteQuery({ ...auditListQuery(api, org, filters), enabled });
}

/**
 * After a change to who may do what: the lists it shows in, the audit log (every such change is
 * recorded), and the person's own permissions (their role, or a role they hold, may have changed).
 */
function useAfterAccessChange(org: string, lists: readonly (readonly unknown[])[]) {
  const queryClient = useQueryClient();
  return async () => {
    await Promise.all([
      ...lists.map((queryKey) => queryClient.invalidateQueries({ queryKey })),
      queryClient.invalidateQueries({ queryKey: queryKeys.audit(org) }),
      queryClient.invalidateQueries({ queryKey: queryKeys.me }),
    ]);
  };
}

/** Sends an invitation (or sends it again: the pending one for the address is replaced). */
export function useInvite(org: string) {
  const { api } = useApiClient();
  const after = useAfterAccessChange(org, [queryKeys.invitations(org)]);
  return useMutation({
    mutationFn: async ({ input, idempotencyKey }: { input: InvitationInput; idempotencyKey: string }) =>
      unwrap(
        await api.POST("/api/v2/orgs/{org}/invitations", {
          params: { path: { org } },
          body: input,
          headers: { [IDEMPOTENCY_HEADER]: idempotencyKey },
        }),
      ),
    onSuccess: after,
  });
}

export function useRevokeInvitation(org: string) {
  const { api } = useApiClient();
  const after = useAfterAccessChange(org, [queryKeys.invitations(org)]);
  return useMutation({
    mutationFn: async (invitationId: number) =>
      expectOk(
        await api.DELETE("/api/v2/orgs/{org}/invitations/{invitation_id}", {
          params: { path: { org, invitation_id: invitationId } },
        }),
      ),
    onSuccess: after,
  });
}

export function useChangeMemberRole(org: string) {
  const { api } = useApiClient();
  const after = useAfterAccessChange(org, [queryKeys.members(org)]);
  return useMutation({
    mutationFn: async ({ memberId, role }: { memberId: number; role: string }) =>
      unwrap(
        await api.PATCH("/api/v2/orgs/{org}/members/{member_id}", {
          params: { path: { org, member_id: memberId } },
          body: { role },
        }),
      ),
    onSuccess: after,
  });
}

export function useRemoveMember(org: string) {
  const { api } = useApiClient();
  const after = useAfterAccessChange(org, [queryKeys.members(org)]);
  return useMutation({
    mutationFn: async (memberId: number) =>
      expectOk(await api.DELETE("/api/v2/orgs/{org}/members/{member_id}", { params: { path: { org, member_id: memberId } } })),
    onSuccess: after,
  });
}

export function useCreateRole(org: string) {
  const { api } = useApiClient();
  const after = useAfterAccessChange(org, [queryKeys.roles(org)]);
  return useMutation({
    mutationFn: async ({ input, idempotencyKey }: { input: RoleInput; idempotencyKey: string }) =>
      unwrap(
        await api.POST("/api/v2/orgs/{org}/roles", {
          params: { path: { org } },
          body: input,
          headers: { [IDEMPOTENCY_HEADER]: idempotencyKey },
        }),
      ),
    onSuccess: after,
  });
}

export function useUpdateRole(org: string) {
  const { api } = useApiClient();
  const after = useAfterAccessChange(org, [queryKeys.roles(org)]);
  return useMutation({
    mutationFn: async ({ key, patch }: { key: string; patch: RolePatch }) =>
      unwrap(await api.PATCH("/api/v2/orgs/{org}/roles/{key}", { params: { path: { org, key } }, body: patch })),
    onSuccess: after,
  });
}

export function useDeleteRole(org: string) {
  const { api } = useApiClient();
  const after = useAfterAccessChange(org, [queryKeys.roles(org)]);
  return useMutation({
    mutationFn: async (key: string) => expectOk(await api.DELETE("/api/v2/orgs/{org}/roles/{key}", { params: { path: { org, key } } })),
    onSuccess: after,
  });
}

/** Creates a key; the answer carries its token, which the API never shows again. */
export function useCreateApiKey(org: string) {
  const { api } = useApiClient();
  const after = useAfterAccessChange(org, [queryKeys.apiKeys(org)]);
  return useMutation({
    mutationFn: async ({ input, idempotencyKey }: { input: ApiKeyInput; idempotencyKey: string }) =>
      unwrap(
        await api.POST("/api/v2/orgs/{org}/api-keys", {
          params: { path: { org } },
          body: input,
          headers: { [IDEMPOTENCY_HEADER]: idempotencyKey },
        }),
      ),
    onSuccess: after,
  });
}

export function useRevokeApiKey(org: string) {
  const { api } = useApiClient();
  const after = useAfterAccessChange(org, [queryKeys.apiKeys(org)]);
  return useMutation({
    mutationFn: async (keyId: number) =>
      expectOk(await api.DELETE("/api/v2/orgs/{org}/api-keys/{key_id}", { params: { path: { org, key_id: keyId } } })),
    onSuccess: after,
  });
}
