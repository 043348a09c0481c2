import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { RescoreAllButton } from "@/components/tasks/RescoreAllButton";
import type { AIEstimate } from "@/lib/api/types";

import { fakeFetch, FREE_USAGE, jsonResponse, makeClient, renderWithApi } from "./helpers";

function serve(estimate: AIEstimate, onRescore: () => Response = () => jsonResponse(202, { queued: estimate.tasks })) {
  return fakeFetch((request) => {
    if (request.path === "/api/v2/orgs/acme/tasks/rescore/estimate") return jsonResponse(200, estimate);
    if (request.path === "/api/v2/orgs/acme/tasks/rescore" && request.method === "POST") return onRescore();
    return undefined;
  });
}

describe("RescoreAllButton", () => {
  it("asks with the estimate first, then re-scores once with an Idempotency-Key", async () => {
    document.cookie = "csrftoken=t";
    const { fetch, sent } = serve({ tasks: 12, ai_calls: 12, covered: true, usage: FREE_USAGE });
    renderWithApi(<RescoreAllButton org="acme" />, makeClient(fetch));

    await userEvent.click(screen.getByRole("button", { name: "Re-score all" }));
    const dialog = screen.getByRole("dialog", { name: "Re-score every task?" });
    expect(await within(dialog).findByText("Re-score 12 tasks: up to 12 AI calls; 988 left this month.")).toBeInTheDocument();
    expect(sent.filter((request) => request.method === "POST")).toHaveLength(0);

    await userEvent.click(within(dialog).getByRole("button", { name: "Re-score 12 tasks" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());
    const posts = sent.filter((request) => request.method === "POST");
    expect(posts).toHaveLength(1);
    expect(posts[0]?.headers.get("Idempotency-Key")).toMatch(/^[0-9a-f-]{32,36}$/);
    expect(screen.getByTestId("toast")).toHaveTextContent("Re-scoring 12 tasks.");
  });

  it("explains and cannot be confirmed when this month's AI calls do not cover it", async () => {
    const { fetch, sent } = serve({ tasks: 1200, ai_calls: 1200, covered: false, usage: FREE_USAGE });
    renderWithApi(<RescoreAllButton org="acme" />, makeClient(fetch));

    await userEvent.click(screen.getByRole("button", { name: "Re-score all" }));
    const dialog = screen.getByRole("dialog");
    const warning = await within(dialog).findByRole("alert");
    expect(warning).toHaveTextContent("Not enough AI calls left this month");
    expect(warning).toHaveTextContent("This needs up to 1,200 AI calls, and 988 of the Free plan's 1,000 a month are left.");
    expect(within(dialog).getByRole("button", { name: "Re-score 1200 tasks" })).toBeDisabled();
    expect(sent.some((request) => request.method === "POST")).toBe(false);
  });

  it("says when there is nothing to re-score", async () => {
    const { fetch } = serve({ tasks: 0, ai_calls: 0, covered: true, usage: FREE_USAGE });
    renderWithApi(<RescoreAllButton org="acme" />, makeClient(fetch));

    await userEvent.click(screen.getByRole("button", { name: "Re-score all" }));
    const dialog = screen.getByRole("dialog");
    expect(await within(dialog).findByText(/there is nothing to re-score/)).toBeInTheDocument();
    expect(within(dialog).getByRole("button", { name: "Re-score all" })).toBeDisabled();
  });

  it("shows a 402 ai-budget-exceeded (the month ran out meanwhile) in words", async () => {
    document.cookie = "csrftoken=t";
    const { fetch } = serve({ tasks: 5, ai_calls: 5, covered: true, usage: FREE_USAGE }, () =>
      jsonResponse(
        402,
        { type: "/problems/ai-budget-exceeded", title: "AI budget exceeded", status: 402, detail: "…", plan: "free", used: 998, limit: 1000, needed: 5 },
        "application/problem+json",
      ),
    );
    renderWithApi(<RescoreAllButton org="acme" />, makeClient(fetch));

    await userEvent.click(screen.getByRole("button", { name: "Re-score all" }));
    const dialog = screen.getByRole("dialog");
    await userEvent.click(await within(dialog).findByRole("button", { name: "Re-score 5 tasks" }));
    expect(await within(dialog).findByRole("alert")).toHaveTextContent(
      "This needs up to 5 AI calls, and 2 of the Free plan's 1,000 AI calls a month are left.",
    );
  });
});
