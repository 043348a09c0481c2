import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { PreviewPanel } from "@/components/scoring/PreviewPanel";
import type { AIEstimate, Criterion, PreviewRun } from "@/lib/api/types";

import { ACTIVE_VERSION, fakeFetch, FREE_USAGE, jsonResponse, makeClient, renderWithApi } from "./helpers";

const CRITERIA: Criterion[] = ACTIVE_VERSION.criteria;

const DONE: PreviewRun = {
  id: "run-1",
  status: "done",
  total: 2,
  done: 2,
  created_at: "2026-01-02T00:00:00Z",
  finished_at: "2026-01-02T00:00:05Z",
  failure_reason: null,
  items: [
    { task_id: "a", title: "Dark mode", old_score: 50, new_score: 55, old_rank: 1, new_rank: 1, rank_change: 0, error: null, ai_skipped: null },
    { task_id: "b", title: "Exports", old_score: 40, new_score: 30, old_rank: 2, new_rank: 2, rank_change: 0, error: null, ai_skipped: "budget" },
  ],
};

function serve(estimate: AIEstimate) {
  return fakeFetch((request) => {
    if (request.path === "/api/v2/orgs/acme/scoring/previews/estimate") return jsonResponse(200, estimate);
    if (request.path === "/api/v2/orgs/acme/scoring/previews" && request.method === "POST") return jsonResponse(202, { ...DONE, status: "queued", items: [] });
    if (request.path === "/api/v2/orgs/acme/scoring/previews/run-1") return jsonResponse(200, DONE);
    return undefined;
  });
}

describe("PreviewPanel on the latest tasks", () => {
  it("shows the estimate before it starts the run, then the results with each item's skipped AI", async () => {
    document.cookie = "csrftoken=t";
    const { fetch, sent } = serve({ tasks: 2, ai_calls: 2, covered: true, usage: FREE_USAGE });
    renderWithApi(<PreviewPanel org="acme" criteria={CRITERIA} getCriteria={async () => CRITERIA} />, makeClient(fetch));

    await userEvent.clear(screen.getByLabelText("Latest tasks"));
    await userEvent.type(screen.getByLabelText("Latest tasks"), "2");
    await userEvent.click(screen.getByRole("button", { name: "Preview on the latest tasks" }));
    const estimate = await screen.findByTestId("preview-estimate");
    expect(estimate).toHaveTextContent("Preview 2 tasks: up to 2 AI calls; 988 left this month.");
    expect(sent.filter((request) => request.path === "/api/v2/orgs/acme/scoring/previews")).toHaveLength(0);
    expect(sent.find((request) => request.path.endsWith("/previews/estimate"))?.body).toEqual({ criteria: CRITERIA, limit: 2 });
    const start = within(estimate).getByRole("button", { name: "Start the preview" });
    await waitFor(() => expect(start).toHaveFocus());

    await userEvent.click(start);
    const results = await screen.findByTestId("preview-results");
    const run = sent.find((request) => request.path === "/api/v2/orgs/acme/scoring/previews");
    expect(run?.body).toEqual({ criteria: CRITERIA, limit: 2 });
    expect(run?.headers.get("Idempotency-Key")).toBeTruthy();
    expect(within(results).getByTestId("preview-ai-skipped")).toHaveTextContent("AI criteria skipped: AI budget used up");
    expect(results).toHaveTextContent("1 of 2 tasks were scored without the draft's AI criteria");
    expect(screen.queryByTestId("preview-estimate")).not.toBeInTheDocument();
  });

  it("explains and does not start when the month's AI calls do not cover the run", async () => {
    document.cookie = "csrftoken=t";
    const { fetch, sent } = serve({ tasks: 200, ai_calls: 400, covered: false, usage: { ...FREE_USAGE, calls: 900, remaining: 100 } });
    renderWithApi(<PreviewPanel org="acme" criteria={CRITERIA} getCriteria={async () => CRITERIA} />, makeClient(fetch));

    await userEvent.click(screen.getByRole("button", { name: "Preview on the latest tasks" }));
    const estimate = await screen.findByTestId("preview-estimate");
    expect(within(estimate).getByRole("alert")).toHaveTextContent("This needs up to 400 AI calls, and 100 of the Free plan's 1,000 a month are left.");
    expect(within(estimate).getByRole("button", { name: "Start the preview" })).toBeDisabled();
    expect(sent.some((request) => request.path === "/api/v2/orgs/acme/scoring/previews")).toBe(false);
  });

  it("drops an estimate once the number of tasks changes", async () => {
    document.cookie = "csrftoken=t";
    const { fetch } = serve({ tasks: 200, ai_calls: 200, covered: true, usage: FREE_USAGE });
    renderWithApi(<PreviewPanel org="acme" criteria={CRITERIA} getCriteria={async () => CRITERIA} />, makeClient(fetch));

    await userEvent.click(screen.getByRole("button", { name: "Preview on the latest tasks" }));
    await screen.findByTestId("preview-estimate");
    await userEvent.type(screen.getByLabelText("Latest tasks"), "{Backspace}");
    expect(screen.queryByTestId("preview-estimate")).not.toBeInTheDocument();
  });
});
