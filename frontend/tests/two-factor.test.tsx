import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";

import { TotpQrCode } from "@/components/account/TotpQrCode";
import { TwoFactorSection } from "@/components/account/TwoFactorSection";
import { LoginForm } from "@/components/auth/LoginForm";
import { AppShell } from "@/components/shell/AppShell";
import { ToastProvider } from "@/components/ui";
import { ApiClientProvider } from "@/lib/api/context";
import { ReauthenticationRequired, reauthenticationOf } from "@/lib/api/mfa";

import { fakeFetch, jsonResponse, makeClient, renderWithApi, type SentRequest } from "./helpers";

const router = { replace: vi.fn(), push: vi.fn(), refresh: vi.fn() };
vi.mock("next/navigation", () => ({
  useRouter: () => router,
  usePathname: () => "/orgs/acme/tasks",
  useSearchParams: () => new URLSearchParams(),
}));

const ALLAUTH = "/_allauth/browser/v1";

/** allauth's answer while a log-in waits for the second factor. */
const PENDING_MFA = {
  status: 401,
  data: { flows: [{ id: "login" }, { id: "mfa_authenticate", is_pending: true, types: ["totp", "recovery_codes"] }] },
  meta: { is_authenticated: false },
};

/** allauth's answer to a change it makes only after the person confirms who they are. */
const REAUTHENTICATE = {
  status: 401,
  data: { user: { id: 1, email: "olga@example.test" }, methods: [], flows: [{ id: "reauthenticate" }, { id: "reauthenticate_by_code" }] },
  meta: { is_authenticated: true },
};

const LOGGED_IN = { status: 200, data: { user: { id: 1, email: "olga@example.test" }, methods: [] }, meta: { is_authenticated: true } };

const INCORRECT_CODE = { status: 400, errors: [{ message: "Incorrect code.", code: "incorrect_code", param: "code" }] };

beforeEach(() => {
  document.cookie = "csrftoken=t0k";
  router.replace.mockClear();
});

describe("the log-in's two-factor step", () => {
  it("asks for a code after the password, refuses a wrong one under the field, and logs in with the right one", async () => {
    const { fetch, sent } = fakeFetch((request) => {
      if (request.path === `${ALLAUTH}/auth/login`) return jsonResponse(401, PENDING_MFA);
      if (request.path === `${ALLAUTH}/auth/2fa/authenticate`) {
        const { code } = request.body as { code: string };
        return code === "123456" ? jsonResponse(200, LOGGED_IN) : jsonResponse(400, INCORRECT_CODE);
      }
      return undefined;
    });
    renderWithApi(<LoginForm next="/orgs/acme/tasks" />, makeClient(fetch));

    await userEvent.type(screen.getByLabelText("Email"), "olga@example.test");
    await userEvent.type(screen.getByLabelText("Password"), "a-long-password");
    await userEvent.click(screen.getByRole("button", { name: "Log in" }));

    const code = await screen.findByLabelText("Code");
    expect(code).toHaveFocus();
    expect(screen.getByText(/or one of your recovery codes/)).toBeInTheDocument();
    await userEvent.type(code, "654321");
    await userEvent.click(screen.getByRole("button", { name: "Log in" }));
    expect(await screen.findByText("Incorrect code.")).toBeInTheDocument();
    expect(router.replace).not.toHaveBeenCalled();

    await userEvent.clear(code);
    await userEvent.type(code, "123 456");
    await userEvent.click(screen.getByRole("button", { name: "Log in" }));
    await vi.waitFor(() => expect(router.replace).toHaveBeenCalledWith("/orgs/acme/tasks"));
    expect(sent.filter((request) => request.path.endsWith("/2fa/authenticate")).map((request) => request.body)).toEqual([
      { code: "654321" },
      { code: "123456" },
    ]);
  });
});

describe("reauthentication", () => {
  it("reads the ways allauth offers to confirm who the person is", () => {
    const required = reauthenticationOf(401, {
      ...REAUTHENTICATE,
      data: { ...REAUTHENTICATE.data, flows: [{ id: "reauthenticate" }, { id: "mfa_reauthenticate" }] },
    });
    expect(required).toBeInstanceOf(ReauthenticationRequired);
    expect(required?.methods).toEqual(["password", "code"]);
    expect(reauthenticationOf(401, PENDING_MFA)).toBeNull();
    expect(reauthenticationOf(400, INCORRECT_CODE)).toBeNull();
  });
});

describe("setting up two-factor authentication", () => {
  it("shows the key and a QR code, confirms the password when asked, then shows the recovery codes once", async () => {
    let isReauthenticated = false;
    const codes = Array.from({ length: 10 }, (_, index) => `1000000${index}`);
    const { fetch, sent } = fakeFetch((request: SentRequest) => {
      const path = request.path.replace(ALLAUTH, "");
      if (path === "/account/authenticators") return jsonResponse(200, { status: 200, data: [] });
      if (path === "/account/authenticators/totp" && request.method === "GET") {
        return jsonResponse(404, { status: 404, meta: { secret: "JBSWY3DPEHPK3PXP", totp_url: "otpauth://totp/olga?secret=JBSWY3DPEHPK3PXP&issuer=Taskscore" } });
      }
      if (path === "/auth/reauthenticate") {
        isReauthenticated = (request.body as { password: string }).password === "right-password";
        return isReauthenticated
          ? jsonResponse(200, LOGGED_IN)
          : jsonResponse(400, { status: 400, errors: [{ message: "Incorrect password.", param: "password" }] });
      }
      if (path === "/account/authenticators/totp" && request.method === "POST") {
        return isReauthenticated ? jsonResponse(200, { status: 200, data: { type: "totp" } }) : jsonResponse(401, REAUTHENTICATE);
      }
      if (path === "/account/authenticators/recovery-codes") {
        return jsonResponse(200, { status: 200, data: { type: "recovery_codes", total_code_count: 10, unused_code_count: 10, unused_codes: codes } });
      }
      if (path === "/api/v2/me") return jsonResponse(200, { id: 1, email: "olga@example.test", email_verified: true, mfa_enabled: false, orgs: [] });
      return undefined;
    });
    renderWithApi(<TwoFactorSection />, makeClient(fetch));

    await userEvent.click(await screen.findByRole("button", { name: "Set up an authenticator app" }));
    expect(await screen.findByTestId("totp-secret")).toHaveTextContent("JBSW Y3DP EHPK 3PXP");
    const qr = screen.getByRole("img", { name: /QR code/ });
    expect(qr.querySelector("path")?.getAttribute("d")).toMatch(/^M\d+ \d+h1v1h-1z/);

    await userEvent.type(screen.getByLabelText("Code from the app"), "12345");
    await userEvent.click(screen.getByRole("button", { name: "Turn on two-factor authentication" }));
    expect(await screen.findByText("The code is 6 digits.")).toBeInTheDocument();

    await userEvent.type(screen.getByLabelText("Code from the app"), "6");
    await userEvent.click(screen.getByRole("button", { name: "Turn on two-factor authentication" }));
    const dialog = within(await screen.findByTestId("reauthenticate-form"));
    await userEvent.type(dialog.getByLabelText("Password"), "wrong-password");
    await userEvent.click(dialog.getByRole("button", { name: "Confirm" }));
    expect(await dialog.findByText("Incorrect password.")).toBeInTheDocument();
    await userEvent.clear(dialog.getByLabelText("Password"));
    await userEvent.type(dialog.getByLabelText("Password"), "right-password");
    await userEvent.click(dialog.getByRole("button", { name: "Confirm" }));

    const shown = await screen.findAllByTestId("recovery-code");
    expect(shown.map((item) => item.textContent)).toEqual(codes);
    // the code was sent twice: refused until the password was confirmed, then taken
    expect(sent.filter((request) => request.path.endsWith("/authenticators/totp") && request.method === "POST")).toHaveLength(2);
  });
});

describe("an org that requires two-factor authentication", () => {
  function renderShell(me: unknown) {
    const { fetch } = fakeFetch((request) => (request.path === "/api/v2/me" ? jsonResponse(200, me) : undefined));
    const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    render(
      <QueryClientProvider client={queryClient}>
        <ApiClientProvider client={makeClient(fetch)}>
          <ToastProvider>
            <AppShell org="acme">
              <p>The tasks</p>
            </AppShell>
          </ToastProvider>
        </ApiClientProvider>
      </QueryClientProvider>,
    );
  }

  const org = (mfaRequired: boolean) => ({ slug: "acme", name: "Acme", role: "admin", permissions: ["task.read"], mfa_required: mfaRequired });

  it("shows an admin without it how to set it up instead of the page", async () => {
    renderShell({ id: 1, email: "dave@example.test", email_verified: true, mfa_enabled: false, orgs: [org(true)] });
    expect(await screen.findByTestId("mfa-required")).toHaveTextContent("Acme requires two-factor authentication");
    expect(screen.getByRole("link", { name: "Set up two-factor authentication" })).toHaveAttribute("href", "/account#two-factor");
    expect(screen.queryByText("The tasks")).not.toBeInTheDocument();
  });

  it("shows the page to a person who has it", async () => {
    renderShell({ id: 1, email: "dave@example.test", email_verified: true, mfa_enabled: true, orgs: [org(true)] });
    expect(await screen.findByText("The tasks")).toBeInTheDocument();
    expect(screen.queryByTestId("mfa-required")).not.toBeInTheDocument();
  });
});

describe("the QR code", () => {
  it("is drawn on the page from the address alone", () => {
    render(<TotpQrCode url="otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&issuer=Taskscore" label="QR" />);
    const svg = screen.getByRole("img", { name: "QR" });
    const size = Number(svg.getAttribute("viewBox")?.split(" ")[2]);
    expect(size).toBeGreaterThanOrEqual(21 + 4); // a version-1 code and its border, at least
    expect(svg.querySelectorAll("path")).toHaveLength(1);
  });
});
