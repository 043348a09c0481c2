import { QueryClient } from "@tanstack/react-query";
import { describe, expect, it } from "vitest";

import { reloadPermissionsOnDenial } from "@/app/providers";
import {
  apiBaseUrl,
  areaOf,
  canTouchRole,
  curlSnippet,
  emailError,
  grantableRoles,
  groupByArea,
  permissionBlockReason,
  roleKeyError,
  roleKeyFromName,
  roleNameOf,
} from "@/lib/access";
import { ApiProblem, toApiProblem } from "@/lib/api/problem";
import type { AuditEvent } from "@/lib/api/types";
import {
  actionLabel,
  auditFiltersFromParams,
  auditQueryOf,
  auditSentence,
  auditWhat,
  auditWho,
  dateRangeError,
  isFiltered,
  paramsFromAuditFilters,
} from "@/lib/audit";
import { billingActionOf, describeError } from "@/lib/errors";
import { queryKeys, type PermissionDenial } from "@/lib/queries/keys";

import { ADMIN_ROLE_PERMISSIONS, PERMISSION_CATALOG, rolesFor } from "./helpers";

describe("permissions by area", () => {
  it("groups the catalog in a fixed order of areas, each permission once", () => {
    const groups = groupByArea(PERMISSION_CATALOG);
    expect(groups.map((group) => group.label)).toEqual([
      "Tasks and scores",
      "Scoring model",
      "Members and roles",
      "API keys",
      "Billing",
      "Audit log",
      "Ownership",
    ]);
    expect(groups[0]?.permissions.map((permission) => permission.key)).toEqual(["task.read", "task.create", "task.rescore", "score.review"]);
    expect(groups.flatMap((group) => group.permissions)).toHaveLength(PERMISSION_CATALOG.length);
    expect(areaOf("webhooks.manage")).toBe("other");
  });

  it("says why a permission the editor lacks cannot be given", () => {
    expect(permissionBlockReason("billing.manage", ADMIN_ROLE_PERMISSIONS)).toBe("You do not hold this permission, so you cannot give it.");
    expect(permissionBlockReason("task.read", ADMIN_ROLE_PERMISSIONS)).toBeNull();
  });
});

describe("roles", () => {
  const roles = rolesFor(ADMIN_ROLE_PERMISSIONS);

  it("offers only the roles the caller may grant, and touches only holders of those", () => {
    expect(grantableRoles(roles).map((role) => role.key)).toEqual(["admin", "member", "viewer", "triage"]);
    expect(canTouchRole(roles, "owner")).toBe(false);
    expect(canTouchRole(roles, "triage")).toBe(true);
    expect(canTouchRole(undefined, "viewer")).toBe(false);
  });

  it("names a role by its key, and keeps the key of one it does not know", () => {
    expect(roleNameOf(roles, "triage")).toBe("Triage");
    expect(roleNameOf(roles, "gone")).toBe("gone");
  });

  it("makes a key from a name and checks it as the API does", () => {
    expect(roleKeyFromName("Support lead")).toBe("support-lead");
    expect(roleKeyFromName("Équipe QA!")).toBe("equipe-qa");
    expect(roleKeyFromName("42 reviewers")).toBe("reviewers");
    expect(roleKeyError("support-lead")).toBeNull();
    expect(roleKeyError("a")).toBe("Use at least 2 characters.");
    expect(roleKeyError("Support")).toBe("Use lowercase letters, digits and -, starting with a letter.");
    expect(roleKeyError("viewer")).toBe("This is a built-in role's key; choose another.");
  });

  it("catches an email that is not one", () => {
    expect(emailError("max@team.test")).toBeNull();
    expect(emailError(" ")).toBe("Enter an email address.");
    expect(emailError("max")).toBe("Enter an email address like name@example.com.");
  });
});

describe("the usage example", () => {
  it("uses this app's origin and the org, with the token in a variable", () => {
    expect(apiBaseUrl("https://app.example/")).toBe("https://app.example/api/v2");
    const snippet = curlSnippet("https://app.example", "acme");
    expect(snippet).toContain('curl -H "Authorization: Bearer $TASKSCORE_TOKEN"');
    expect(snippet).toContain('"https://app.example/api/v2/orgs/acme/tasks?limit=5"');
  });
});

describe("a 402 for a paid feature", () => {
  const problem = toApiProblem(
    { type: "/problems/plan-feature-required", title: "Plan feature required", status: 402, feature: "audit_log", plan: "free", required_plan: "business" },
    { status: 402, statusText: "" },
  );

  it("is read with its feature and plans", () => {
    expect([problem.feature, problem.plan, problem.requiredPlan]).toEqual(["audit_log", "free", "business"]);
  });

  it("says what needs which plan, and offers the upgrade", () => {
    expect(describeError(problem)).toMatchObject({
      title: "The audit log needs the Business plan",
      message: "The audit log comes with the Business plan. This organization is on the Free plan. Upgrade to use it.",
    });
    const keys = new ApiProblem({ ...problem, type: problem.type, feature: "api_keys", requiredPlan: "pro", plan: undefined });
    expect(describeError(keys).title).toBe("API keys need the Pro plan");
    expect(describeError(keys).message).toBe("API keys come with the Pro plan. Upgrade to use them.");
    expect(billingActionOf(problem)).toEqual({ label: "Upgrade to Business" });
  });

  it("offers the billing page for quotas and overdue payments, not for the AI budget or other errors", () => {
    const of = (type: string, status = 402) => billingActionOf(new ApiProblem({ type, title: "T", status }));
    expect(of("/problems/quota-exceeded")).toEqual({ label: "Upgrade" });
    expect(of("/problems/payment-overdue")).toEqual({ label: "Update the payment method" });
    expect(of("/problems/ai-budget-exceeded")).toBeNull();
    expect(of("/problems/permission-denied", 403)).toBeNull();
    expect(billingActionOf(new TypeError("offline"))).toBeNull();
  });
});

describe("a refusal for a missing permission", () => {
  it("reloads the person's permissions and remembers what was refused", async () => {
    const queryClient = new QueryClient();
    queryClient.setQueryData(queryKeys.me, { id: 1 });
    reloadPermissionsOnDenial(new ApiProblem({ type: "/problems/permission-denied", title: "T", status: 403, permission: "task.create" }), queryClient);
    expect(queryClient.getQueryState(queryKeys.me)?.isInvalidated).toBe(true);
    expect(queryClient.getQueryData<PermissionDenial>(queryKeys.lastDenial)?.permission).toBe("task.create");
  });

  it("leaves them alone for other refusals", () => {
    const queryClient = new QueryClient();
    queryClient.setQueryData(queryKeys.me, { id: 1 });
    reloadPermissionsOnDenial(new ApiProblem({ type: "/problems/http-403", title: "CSRF", status: 403 }), queryClient);
    reloadPermissionsOnDenial(new ApiProblem({ type: "/problems/not-found", title: "T", status: 404 }), queryClient);
    expect(queryClient.getQueryState(queryKeys.me)?.isInvalidated).toBe(false);
  });
});

describe("audit filters", () => {
  it("round-trip through the URL, dropping what is malformed", () => {
    const filters = auditFiltersFromParams(new URLSearchParams("action=member.role_changed&actor=%20max%20&from=2026-12-01&to=2026-12-31x"));
    expect(filters).toEqual({ action: "member.role_changed", actor: "max", from: "2026-12-01" });
    expect(paramsFromAuditFilters(filters).toString()).toBe("action=member.role_changed&actor=max&from=2026-12-01");
    expect(auditFiltersFromParams(new URLSearchParams("action=DROP TABLE"))).toEqual({});
    expect(isFiltered({})).toBe(false);
  });

  it("asks the API for whole days in the reader's zone, the last day included", () => {
    const query = auditQueryOf({ from: "2026-12-01", to: "2026-12-02" });
    expect(query.since).toBe(new Date(2026, 11, 1).toISOString());
    expect(query.until).toBe(new Date(2026, 11, 3).toISOString());
    expect(dateRangeError({ from: "2026-12-02", to: "2026-12-01" })).toBe("The first day comes after the last one.");
  });
});

function event(overrides: Partial<AuditEvent>): AuditEvent {
  return {
    id: 1,
    actor: "olivia@team.test",
    actor_kind: "user",
    actor_api_key_name: null,
    action: "org.created",
    target_type: "org",
    target_id: "1",
    before: null,
    after: null,
    created_at: "2026-12-01T10:00:00Z",
    ...overrides,
  };
}

describe("audit events in words", () => {
  const roles = rolesFor(ADMIN_ROLE_PERMISSIONS);
  const roleName = (key: string) => roleNameOf(roles, key);
  const what = (overrides: Partial<AuditEvent>) => auditWhat(event(overrides), roleName);

  it("says who did what to what for each action the app records", () => {
    expect(what({ action: "invitation.created", after: { email: "max@team.test", role: "member" } })).toBe("invited max@team.test as Member");
    expect(what({ action: "invitation.revoked", before: { email: "typo@team.test" } })).toBe("revoked the invitation of typo@team.test");
    expect(what({ action: "invitation.accepted", after: { email: "max@team.test", role: "member" } })).toBe("accepted the invitation and joined as Member");
    expect(what({ action: "invitation.declined", before: { email: "max@team.test", role: "viewer" } })).toBe("declined the invitation to join as Viewer");
    expect(what({ action: "member.role_changed", before: { email: "max@team.test", role: "member" }, after: { email: "max@team.test", role: "triage" } })).toBe(
      "changed the role of max@team.test from Member to Triage",
    );
    expect(what({ action: "member.removed", before: { email: "max@team.test", role: "viewer" } })).toBe("removed max@team.test (Viewer) from the organization");
    expect(what({ action: "role.created", target_id: "triage", after: { key: "triage", name: "Triage", permissions: ["task.read", "task.rescore"] } })).toBe(
      "created the custom role Triage with 2 permissions",
    );
    expect(
      what({
        action: "role.updated",
        before: { key: "triage", name: "Triage", permissions: ["task.read", "task.rescore"] },
        after: { key: "triage", name: "Triagers", permissions: ["task.read", "task.create"] },
      }),
    ).toBe("changed the custom role Triagers: renamed it Triagers; added task.create; removed task.rescore");
    expect(what({ action: "role.deleted", target_id: "triage", before: { name: "Triage" } })).toBe("deleted the custom role Triage");
    expect(what({ action: "api_key.created", after: { name: "CI", prefix: "ab12", role: "viewer" } })).toBe("created the API key “CI” (ts_ab12…) with the role Viewer");
    expect(what({ action: "api_key.revoked", before: { prefix: "ab12", role: "viewer" } })).toBe("revoked the API key ts_ab12… (Viewer)");
    expect(what({ action: "org.created" })).toBe("created the organization");
    expect(
      what({
        action: "org.ai_rules_changed",
        before: { enabled: true, send_title: true, send_description: true },
        after: { enabled: true, send_title: false, send_description: true },
      }),
    ).toBe("changed the AI rules: sending the title off");
    expect(what({ action: "score.overridden", before: { criterion: null, machine_value: 61.25 }, after: { criterion: null, value: 50, reason: "Too high." } })).toBe(
      "overrode the score of a task: 61.3 → 50.0 (“Too high.”)",
    );
    expect(what({ action: "score.override_cleared", before: { criterion: "clarity", value: 2 } })).toBe("cleared the override of the criterion clarity of a task (2.0)");
    expect(what({ action: "calibration.labels_imported", after: { rows: 12 } })).toBe("imported 12 calibration ratings");
    expect(what({ action: "billing.subscription_changed", before: { status: "active" }, after: { status: "past_due" } })).toBe(
      "changed the subscription from active to past due",
    );
    expect(what({ action: "billing.plan_granted", after: { granted_plan: "business" } })).toBe("granted the Business plan");
  });

  it("still says something of an action it does not know yet", () => {
    expect(what({ action: "webhook.created", target_id: "7" })).toBe("webhook created (7)");
    expect(actionLabel("webhook.created")).toBe("Webhook created");
  });

  it("names the key or the system that acted", () => {
    expect(auditWho(event({ actor: "API key ts_ab12", actor_kind: "api_key", actor_api_key_name: "CI" }))).toBe("API key “CI” (ts_ab12…)");
    expect(auditWho(event({ actor: "API key ts_ab12", actor_kind: "api_key" }))).toBe("API key ts_ab12…");
    expect(auditWho(event({ actor: "system", actor_kind: "system" }))).toBe("The system");
    expect(auditSentence(event({}), roleName)).toBe("olivia@team.test created the organization.");
  });
});
