import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";

import { LoginForm } from "@/components/auth/LoginForm";

import { fakeFetch, jsonResponse, makeClient, renderWithApi } from "./helpers";

const router = { replace: vi.fn(), push: vi.fn(), refresh: vi.fn() };
vi.mock("next/navigation", () => ({
  useRouter: () => router,
  usePathname: () => "/login",
  useSearchParams: () => new URLSearchParams(),
}));

beforeEach(() => {
  document.cookie = "csrftoken=t0k";
  router.replace.mockClear();
});

async function logInAnswered(answer: Response) {
  const { fetch } = fakeFetch((request) => (request.path.endsWith("/auth/login") ? answer : undefined));
  renderWithApi(<LoginForm next="/" />, makeClient(fetch));
  await userEvent.type(screen.getByLabelText("Email"), "nora@example.test");
  await userEvent.type(screen.getByLabelText("Password"), "a-long-password");
  await userEvent.click(screen.getByRole("button", { name: "Log in" }));
}

describe("a throttled log-in (security finding 3)", () => {
  it("says to wait when allauth answers 429 for the address", async () => {
    await logInAnswered(jsonResponse(429, { status: 429 }));

    expect(await screen.findByRole("alert")).toHaveTextContent("Too many attempts. Please wait a moment and try again.");
    expect(router.replace).not.toHaveBeenCalled();
  });

  it("shows allauth's words when the account's failed log-ins are used up", async () => {
    await logInAnswered(
      jsonResponse(400, {
        status: 400,
        errors: [{ message: "Too many failed login attempts. Try again later.", code: "too_many_login_attempts" }],
      }),
    );

    expect(await screen.findByRole("alert")).toHaveTextContent("Too many failed login attempts. Try again later.");
    expect(router.replace).not.toHaveBeenCalled();
  });
});
