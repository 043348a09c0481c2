import { QueryClient } from "@tanstack/react-query";
import { describe, expect, it } from "vitest";

import { AllauthError } from "@/lib/api/allauth";
import { createApiClient, unwrap, type ApiClient } from "@/lib/api/client";
import type { TaskInput } from "@/lib/api/types";
import { ApiProblem } from "@/lib/api/problem";
import { taskListQuery } from "@/lib/queries/options";

import { BASE_URL, fakeFetch, jsonResponse, makeClient, makeTask, problemResponse, scoredTask } from "./helpers";

const ME = {
  id: 7,
  email: "alice@example.com",
  email_verified: true,
  orgs: [{ slug: "acme", name: "Acme", role: "owner", permissions: ["task.read"] }],
};

async function me(client: ApiClient) {
  return unwrap(await client.api.GET("/api/v2/me"));
}

async function submitTask(client: ApiClient, org: string, body: TaskInput) {
  return unwrap(await client.api.POST("/api/v2/orgs/{org}/tasks", { params: { path: { org } }, body }));
}

describe("createApiClient", () => {
  it("sends GETs same-origin without a CSRF header and returns the data", async () => {
    document.cookie = "csrftoken=token-123";
    const { fetch, sent } = fakeFetch((request) => (request.path === "/api/v2/me" ? jsonResponse(200, ME) : undefined));

    await expect(me(makeClient(fetch))).resolves.toEqual(ME);

    expect(sent).toHaveLength(1);
    expect(sent[0]?.method).toBe("GET");
    expect(sent[0]?.credentials).toBe("same-origin");
    expect(sent[0]?.headers.has("X-CSRFToken")).toBe(false);
  });

  it("adds X-CSRFToken from the csrftoken cookie to a POST", async () => {
    document.cookie = "csrftoken=token-123";
    const created = makeTask({ title: "Ship it" });
    const { fetch, sent } = fakeFetch((request) =>
      request.method === "POST" && request.path === "/api/v2/orgs/acme/tasks" ? jsonResponse(201, created) : undefined,
    );

    const task = await submitTask(makeClient(fetch), "acme", {
      title: "Ship it",
      description: "",
      attributes: { reach: 10 },
    });

    expect(task).toEqual(created);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.headers.get("X-CSRFToken")).toBe("token-123");
    expect(sent[0]?.headers.get("Content-Type")).toBe("application/json");
    expect(sent[0]?.body).toEqual({ title: "Ship it", description: "", attributes: { reach: 10 } });
  });

  it("fetches the CSRF cookie first when it is missing", async () => {
    let cookie: string | undefined;
    const { fetch, sent } = fakeFetch((request) => {
      if (request.path === "/api/v2/auth/csrf") {
        cookie = "fresh-token";
        return new Response(null, { status: 204 });
      }
      if (request.method === "POST") return jsonResponse(201, makeTask());
      return undefined;
    });
    const client = createApiClient({ fetch, baseUrl: BASE_URL, readCookie: (name) => (name === "csrftoken" ? cookie : undefined) });

    await submitTask(client, "acme", { title: "x", description: "", attributes: {} });

    expect(sent.map((request) => `${request.method} ${request.path}`)).toEqual([
      "GET /api/v2/auth/csrf",
      "POST /api/v2/orgs/acme/tasks",
    ]);
    expect(sent[1]?.headers.get("X-CSRFToken")).toBe("fresh-token");
  });

  it("throws a 422 problem as ApiProblem with field errors", async () => {
    document.cookie = "csrftoken=t";
    const { fetch } = fakeFetch(() =>
      problemResponse(422, {
        title: "Validation failed",
        errors: [{ field: "attributes.effort", message: "Must be at most 10." }],
      }),
    );

    const error: unknown = await submitTask(makeClient(fetch), "acme", {
      title: "x",
      description: "",
      attributes: { effort: 11 },
    }).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ApiProblem);
    expect((error as ApiProblem).status).toBe(422);
    expect((error as ApiProblem).fieldErrors).toEqual({ "attributes.effort": "Must be at most 10." });
  });

  it("throws a 401 as an unauthenticated ApiProblem", async () => {
    const { fetch } = fakeFetch(() => problemResponse(401, { title: "Not authenticated" }));

    await expect(me(makeClient(fetch))).rejects.toMatchObject({ status: 401, isUnauthenticated: true });
  });

  it("sends the page size, cursor, sort, status and search when listing tasks", async () => {
    const { fetch, sent } = fakeFetch(() => jsonResponse(200, { items: [], next_cursor: null }));
    const options = taskListQuery(makeClient(fetch).api, "acme", { sort: "-score", status: "scored", q: "  dark  " });

    await options.queryFn!({ pageParam: "abc==", queryKey: options.queryKey, signal: new AbortController().signal, meta: undefined, direction: "forward", client: new QueryClient() });

    expect(sent[0]?.path).toBe("/api/v2/orgs/acme/tasks");
    expect(Object.fromEntries(sent[0]?.search ?? [])).toEqual({ limit: "50", cursor: "abc==", sort: "-score", status: "scored", q: "dark" });
    expect(options.queryKey).toEqual(["orgs", "acme", "tasks", "list", { sort: "-score", status: "scored", q: "dark" }]);
  });

  it("keeps of each listed task only what its row shows (the server sends the list with the page)", async () => {
    const task = scoredTask(72.5, { description: "A long description", overrides: [] });
    const { fetch } = fakeFetch(() => jsonResponse(200, { items: [task, makeTask({ title: "Waiting" })], next_cursor: "next==" }));
    const options = taskListQuery(makeClient(fetch).api, "acme", {});

    const page = await options.queryFn!({ pageParam: null, queryKey: options.queryKey, signal: new AbortController().signal, meta: undefined, direction: "forward", client: new QueryClient() });

    expect(page.next_cursor).toBe("next==");
    expect(page.items[0]).toEqual({
      id: task.id,
      title: task.title,
      status: "scored",
      created_at: task.created_at,
      score: { value: 72.5, machine_value: 72.5, overridden: false },
    });
    expect(page.items[1]).toMatchObject({ title: "Waiting", status: "queued", score: null });
    expect(Object.keys(page.items[1] ?? {}).sort()).toEqual(["created_at", "id", "score", "status", "title"]);
  });
});

describe("allauth helpers", () => {
  it("logs in with JSON credentials and the CSRF header", async () => {
    document.cookie = "csrftoken=t0k";
    const { fetch, sent } = fakeFetch(() =>
      jsonResponse(200, { status: 200, data: { user: { id: 1, email: "alice@example.com" } }, meta: { is_authenticated: true } }),
    );

    const outcome = await makeClient(fetch).login({ email: "alice@example.com", password: "pw" });

    expect(outcome).toMatchObject({ status: "logged-in", user: { email: "alice@example.com" } });
    expect(sent[0]?.method).toBe("POST");
    expect(sent[0]?.path).toBe("/_allauth/browser/v1/auth/login");
    expect(sent[0]?.headers.get("X-CSRFToken")).toBe("t0k");
    expect(sent[0]?.headers.get("Content-Type")).toBe("application/json");
    expect(sent[0]?.body).toEqual({ email: "alice@example.com", password: "pw" });
  });

  it("reports a log-in that waits on verifying the address, without throwing", async () => {
    document.cookie = "csrftoken=t0k";
    const { fetch } = fakeFetch(() =>
      jsonResponse(401, {
        status: 401,
        data: { flows: [{ id: "login" }, { id: "signup" }, { id: "verify_email", is_pending: true }] },
        meta: { is_authenticated: false },
      }),
    );

    await expect(makeClient(fetch).login({ email: "new@example.com", password: "pw" })).resolves.toEqual({
      status: "pending",
      flow: "verify_email",
    });
  });

  it("throws a 401 with no pending step as AllauthError", async () => {
    document.cookie = "csrftoken=t0k";
    const { fetch } = fakeFetch(() => jsonResponse(401, { status: 401, data: { flows: [{ id: "login" }] }, meta: { is_authenticated: false } }));

    await expect(makeClient(fetch).login({ email: "a@b.c", password: "pw" })).rejects.toBeInstanceOf(AllauthError);
  });

  it("says whether verifying an address logged the person in", async () => {
    document.cookie = "csrftoken=t0k";
    const here = fakeFetch(() => jsonResponse(200, { status: 200, data: { user: {} }, meta: { is_authenticated: true } }));
    const elsewhere = fakeFetch(() => jsonResponse(401, { status: 401, data: { flows: [] }, meta: { is_authenticated: false } }));

    await expect(makeClient(here.fetch).verifyEmail("k-1")).resolves.toEqual({ isLoggedIn: true });
    await expect(makeClient(elsewhere.fetch).verifyEmail("k-1")).resolves.toEqual({ isLoggedIn: false });
    expect(here.sent[0]?.body).toEqual({ key: "k-1" });
  });

  it("throws allauth's 400 messages as AllauthError", async () => {
    document.cookie = "csrftoken=t0k";
    const { fetch } = fakeFetch(() =>
      jsonResponse(400, {
        status: 400,
        errors: [{ message: "The email address and/or password you specified are not correct.", code: "email_password_mismatch", param: "password" }],
      }),
    );

    const error: unknown = await makeClient(fetch)
      .login({ email: "a@b.c", password: "wrong" })
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(AllauthError);
    expect((error as AllauthError).messages).toEqual(["The email address and/or password you specified are not correct."]);
  });

  it("treats the 401 answer to logout as success, with the CSRF header sent", async () => {
    document.cookie = "csrftoken=t0k";
    const { fetch, sent } = fakeFetch(() => jsonResponse(401, { status: 401, data: { flows: [] }, meta: { is_authenticated: false } }));

    await expect(makeClient(fetch).logout()).resolves.toBeUndefined();
    expect(sent[0]?.method).toBe("DELETE");
    expect(sent[0]?.path).toBe("/_allauth/browser/v1/auth/session");
    expect(sent[0]?.headers.get("X-CSRFToken")).toBe("t0k");
  });

  it("reports the session state", async () => {
    const loggedIn = fakeFetch(() => jsonResponse(200, { status: 200, data: { user: {} }, meta: { is_authenticated: true } }));
    const loggedOut = fakeFetch(() => jsonResponse(401, { status: 401, data: { flows: [] }, meta: { is_authenticated: false } }));

    await expect(makeClient(loggedIn.fetch).isLoggedIn()).resolves.toBe(true);
    await expect(makeClient(loggedOut.fetch).isLoggedIn()).resolves.toBe(false);
  });

  it("signs up, counting a pending verification step as success", async () => {
    document.cookie = "csrftoken=t0k";
    const { fetch, sent } = fakeFetch(() => jsonResponse(401, { status: 401, data: { flows: [{ id: "verify_email" }] }, meta: { is_authenticated: false } }));

    await expect(makeClient(fetch).signup({ email: "new@example.com", password: "long-password" })).resolves.toBeUndefined();
    expect(sent[0]?.path).toBe("/_allauth/browser/v1/auth/signup");
    expect(sent[0]?.body).toEqual({ email: "new@example.com", password: "long-password" });
  });

  it("puts allauth's messages on the inputs they name", async () => {
    document.cookie = "csrftoken=t0k";
    const { fetch } = fakeFetch(() =>
      jsonResponse(400, {
        status: 400,
        errors: [
          { message: "This password is too common.", code: "password_too_common", param: "password" },
          { message: "Slow down.", code: "x" },
        ],
      }),
    );

    const error = (await makeClient(fetch)
      .signup({ email: "a@b.c", password: "password" })
      .catch((caught: unknown) => caught)) as AllauthError;

    expect(error.fieldMessages).toEqual({ password: "This password is too common.", "": "Slow down." });
  });

  it("sends the verification and reset keys as allauth's headers", async () => {
    const { fetch, sent } = fakeFetch((request) =>
      request.path.endsWith("/auth/email/verify")
        ? jsonResponse(200, { status: 200, data: { email: "new@example.com", user: {} }, meta: { is_authenticating: false } })
        : jsonResponse(200, { status: 200, data: { user: {} } }),
    );
    const client = makeClient(fetch);

    await expect(client.verificationInfo("k-1")).resolves.toEqual({ email: "new@example.com" });
    await client.checkPasswordResetKey("r-2");

    expect(sent[0]?.headers.get("X-Email-Verification-Key")).toBe("k-1");
    expect(sent[1]?.path).toBe("/_allauth/browser/v1/auth/password/reset");
    expect(sent[1]?.headers.get("X-Password-Reset-Key")).toBe("r-2");
  });

  it("counts the 401 after a password reset as success (the person logs in next)", async () => {
    document.cookie = "csrftoken=t0k";
    const { fetch, sent } = fakeFetch(() => jsonResponse(401, { status: 401, data: { flows: [] }, meta: { is_authenticated: false } }));

    await expect(makeClient(fetch).resetPassword({ key: "r-2", password: "new-password-1" })).resolves.toBeUndefined();
    expect(sent[0]?.body).toEqual({ key: "r-2", password: "new-password-1" });
  });

  it("changes the password with allauth's field names", async () => {
    document.cookie = "csrftoken=t0k";
    const { fetch, sent } = fakeFetch(() => jsonResponse(200, { status: 200, data: { user: {} }, meta: { is_authenticated: true } }));

    await makeClient(fetch).changePassword({ currentPassword: "old", newPassword: "new-password-1" });

    expect(sent[0]?.path).toBe("/_allauth/browser/v1/account/password/change");
    expect(sent[0]?.body).toEqual({ current_password: "old", new_password: "new-password-1" });
  });
});
