import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";

import { LoginForm } from "@/components/auth/LoginForm";
import { SignupForm } from "@/components/auth/SignupForm";
import { VerifyEmailNotice } from "@/components/auth/VerifyEmail";

import { fakeFetch, jsonResponse, makeClient, problemResponse, renderWithApi } from "./helpers";

const router = { replace: vi.fn(), push: vi.fn(), refresh: vi.fn() };
vi.mock("next/navigation", () => ({
  useRouter: () => router,
  usePathname: () => "/login",
  useSearchParams: () => new URLSearchParams(),
}));

/** allauth's answer while a sign-up or log-in waits for the address to be verified. */
const PENDING_VERIFICATION = {
  status: 401,
  data: { flows: [{ id: "login" }, { id: "signup" }, { id: "verify_email", is_pending: true }] },
  meta: { is_authenticated: false },
};

beforeEach(() => {
  document.cookie = "csrftoken=t0k";
  window.sessionStorage.clear();
  router.replace.mockClear();
});

describe("mandatory email verification", () => {
  it("sends a log-in with an unverified address to the inbox notice, which names the address", async () => {
    const { fetch } = fakeFetch((request) => {
      if (request.path.endsWith("/auth/login")) return jsonResponse(401, PENDING_VERIFICATION);
      if (request.path === "/api/v2/me") return problemResponse(401, { title: "Not authenticated" });
      return undefined;
    });
    const client = makeClient(fetch);
    renderWithApi(<LoginForm next="/invitations/abc" />, client);

    await userEvent.type(screen.getByLabelText("Email"), "nora@example.test");
    await userEvent.type(screen.getByLabelText("Password"), "a-long-password");
    await userEvent.click(screen.getByRole("button", { name: "Log in" }));

    expect(router.replace).toHaveBeenCalledWith("/verify-email?next=%2Finvitations%2Fabc");
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();

    renderWithApi(<VerifyEmailNotice next="/invitations/abc" outboxAvailable={false} />, client);
    expect(await screen.findByText("nora@example.test")).toBeInTheDocument();
    expect(screen.getByText(/in this browser it also logs you in/)).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Log in" })).toHaveAttribute("href", "/login?next=%2Finvitations%2Fabc");
  });

  it("answers a sign-up the same way whatever the address: the notice, nobody logged in", async () => {
    const { fetch, sent } = fakeFetch((request) =>
      request.path.endsWith("/auth/signup") ? jsonResponse(401, PENDING_VERIFICATION) : undefined,
    );
    renderWithApi(<SignupForm next="/" email="" />, makeClient(fetch));

    await userEvent.type(screen.getByLabelText("Email"), "olga@example.test");
    await userEvent.type(screen.getByLabelText(/^Password/), "a-long-password");
    await userEvent.click(screen.getByRole("button", { name: "Create account" }));

    expect(sent.map((request) => request.path)).toContain("/_allauth/browser/v1/auth/signup");
    expect(router.replace).toHaveBeenCalledWith("/verify-email");
    expect(window.sessionStorage.getItem("taskscore.verification-email")).toBe("olga@example.test");
  });

  it("says 'your email address' when the tab does not know which one", async () => {
    const { fetch } = fakeFetch(() => problemResponse(401, { title: "Not authenticated" }));
    renderWithApi(<VerifyEmailNotice outboxAvailable />, makeClient(fetch));

    expect(await screen.findByText(/We sent a link to your email address\./)).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "local outbox" })).toHaveAttribute("href", "/outbox");
  });
});
