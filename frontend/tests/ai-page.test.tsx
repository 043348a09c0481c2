import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { AIPage } from "@/components/ai/AIPage";
import { CompactUsageMeter } from "@/components/ai/UsageMeter";
import type { AISettings } from "@/lib/api/types";

import { fakeFetch, FREE_USAGE, jsonResponse, makeClient, meWith, OWNER_PERMISSIONS, problemResponse, renderWithApi } from "./helpers";

const SETTINGS: AISettings = {
  rules: { enabled: true, send_title: true, send_description: true },
  usage: FREE_USAGE,
  redaction: ["email", "phone", "card", "secret", "query"],
};

function serve(settings: () => AISettings | Response, permissions: readonly string[] = OWNER_PERMISSIONS, onPatch?: (body: unknown) => Response) {
  return fakeFetch((request) => {
    if (request.path === "/api/v2/me") return jsonResponse(200, meWith(permissions));
    if (request.path === "/api/v2/orgs/acme/ai") {
      const answer = settings();
      return answer instanceof Response ? answer : jsonResponse(200, answer);
    }
    if (request.path === "/api/v2/orgs/acme/ai/rules" && request.method === "PATCH" && onPatch) return onPatch(request.body);
    return undefined;
  });
}

describe("AIPage", () => {
  it("shows the usage meter, the always-on redaction in words and the rules as switches", async () => {
    const { fetch } = serve(() => SETTINGS);
    renderWithApi(<AIPage org="acme" />, makeClient(fetch));

    const meter = await screen.findByRole("meter", { name: "AI calls this month" });
    expect(meter).toHaveAttribute("aria-valuenow", "12");
    expect(meter).toHaveAttribute("aria-valuemax", "1000");
    expect(meter).toHaveAttribute("aria-valuetext", "12 of 1,000 AI calls used; 988 left this month");
    expect(screen.getByTestId("ai-usage-left")).toHaveTextContent("988 left this month");
    expect(screen.getByTestId("ai-usage")).toHaveTextContent("Free plan · cost so far $0.0123 · period began");
    const redaction = within(screen.getByTestId("ai-redaction")).getAllByRole("listitem").map((item) => item.textContent);
    expect(redaction).toEqual([
      "Email addresses",
      "Phone numbers",
      "Payment card numbers",
      "Passwords, API keys, tokens and other secrets",
      "The part of a link after ? or # (where links often carry tokens and personal data)",
    ]);
    await waitFor(() => expect(screen.getByRole("switch", { name: "Rate AI criteria" })).toBeEnabled());
    expect(screen.getByRole("switch", { name: "Send the title" })).toHaveAttribute("aria-checked", "true");
  });

  it("says Unlimited on a plan without a limit, with no bar", async () => {
    const { fetch } = serve(() => ({ ...SETTINGS, usage: { ...FREE_USAGE, plan: "business", limit: null, remaining: null } }));
    renderWithApi(<AIPage org="acme" />, makeClient(fetch));

    expect(await screen.findByTestId("ai-usage-left")).toHaveTextContent("Unlimited");
    expect(screen.getByTestId("ai-usage-used")).toHaveTextContent("12 AI calls used");
    expect(screen.queryByRole("meter")).not.toBeInTheDocument();
  });

  it("changes one rule at a time with scoring.manage and shows what the server kept", async () => {
    document.cookie = "csrftoken=t";
    let current = SETTINGS;
    const patches: unknown[] = [];
    const { fetch } = serve(
      () => current,
      OWNER_PERMISSIONS,
      (body) => {
        patches.push(body);
        current = { ...current, rules: { ...current.rules, send_title: false, send_description: false } };
        return jsonResponse(200, current.rules);
      },
    );
    renderWithApi(<AIPage org="acme" />, makeClient(fetch));

    const title = await screen.findByRole("switch", { name: "Send the title" });
    await waitFor(() => expect(title).toBeEnabled());
    await userEvent.click(title);

    await waitFor(() => expect(title).toHaveAttribute("aria-checked", "false"));
    expect(patches).toEqual([{ send_title: false }]);
    expect(screen.getByRole("switch", { name: "Send the description" })).toHaveAttribute("aria-checked", "false");
    expect(screen.getByRole("alert")).toHaveTextContent("With neither field sent, AI criteria are left out of new scores");
    expect(screen.getByTestId("toast")).toHaveTextContent("Task titles are no longer sent to the AI.");
  });

  it("keeps the rules read-only without scoring.manage, and says why", async () => {
    const { fetch, sent } = serve(() => SETTINGS, ["task.read"]);
    renderWithApi(<AIPage org="acme" />, makeClient(fetch));

    expect(await screen.findByText(/Changing them needs the permission to change the scoring model/)).toBeInTheDocument();
    for (const name of ["Rate AI criteria", "Send the title", "Send the description"]) {
      expect(screen.getByRole("switch", { name })).toBeDisabled();
    }
    expect(sent.some((request) => request.method === "PATCH")).toBe(false);
  });

  it("says when the rule could not be changed, and keeps the switch as it was", async () => {
    document.cookie = "csrftoken=t";
    const { fetch } = serve(
      () => SETTINGS,
      OWNER_PERMISSIONS,
      () => problemResponse(403, { title: "Forbidden", type: "/problems/permission-denied", permission: "scoring.manage" }),
    );
    renderWithApi(<AIPage org="acme" />, makeClient(fetch));

    const enabled = await screen.findByRole("switch", { name: "Rate AI criteria" });
    await waitFor(() => expect(enabled).toBeEnabled());
    await userEvent.click(enabled);
    expect(await screen.findByText("Your role does not let you change the scoring model. Ask an owner or admin of this organization.")).toBeInTheDocument();
    expect(enabled).toHaveAttribute("aria-checked", "true");
  });

  it("explains a failed load and tries again", async () => {
    let calls = 0;
    const { fetch } = serve(() => {
      calls += 1;
      return calls === 1 ? problemResponse(500, { title: "Oops" }) : SETTINGS;
    });
    renderWithApi(<AIPage org="acme" />, makeClient(fetch));

    expect(await screen.findByText("The AI settings could not be loaded")).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Try again" }));
    expect(await screen.findByRole("meter")).toBeInTheDocument();
  });
});

describe("CompactUsageMeter", () => {
  it("shows the calls left this month and links to the AI page", async () => {
    const { fetch } = serve(() => ({ ...SETTINGS, usage: { ...FREE_USAGE, calls: 1000, remaining: 0 } }));
    renderWithApi(<CompactUsageMeter org="acme" />, makeClient(fetch));

    expect(await screen.findByTestId("ai-usage-left")).toHaveTextContent("None left this month");
    expect(screen.getByRole("link", { name: "AI rules and usage" })).toHaveAttribute("href", "/orgs/acme/ai");
    expect(screen.getByTestId("ai-usage")).not.toHaveTextContent("cost so far");
  });
});
