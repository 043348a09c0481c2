import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { TaskDetail } from "@/components/tasks/TaskDetail";
import type { ScoreDetail, Task, TaskOverride } from "@/lib/api/types";

import {
  ACTIVE_VERSION,
  fakeFetch,
  jsonResponse,
  makeClient,
  meWith,
  OWNER_PERMISSIONS,
  problemResponse,
  renderWithApi,
  reviewableTask,
  type SentRequest,
} from "./helpers";

const OVERRIDE: TaskOverride = {
  id: "5f0c0000-0000-4000-8000-000000000001",
  criterion: "clarity",
  value: 2,
  machine_value: 6,
  reason: "No definition of done.",
  created_by: "rita@example.test",
  created_at: "2026-01-03T10:00:00Z",
  cleared_at: null,
  cleared_by: null,
};

function overridden(task: Task): Task {
  const score = task.score;
  if (!score) throw new Error("the task needs a score");
  return {
    ...task,
    score: {
      ...score,
      value: 52,
      overridden: true,
      breakdown: score.breakdown.map((item) => (item.key === "clarity" ? { ...item, human_value: 2 } : item)),
    },
    overrides: [OVERRIDE],
  };
}

function scoreDetail(task: Task): ScoreDetail {
  return {
    id: task.score?.id ?? 0,
    task_id: task.id,
    version_id: 11,
    version: 1,
    model: "Default",
    value: 60,
    recomputed_value: 60,
    breakdown: task.score?.breakdown ?? [],
    inputs: {
      version_id: 11,
      version: 1,
      attributes: { reach: 400, effort: 2 },
      ratings: { clarity: 6 },
      ai: {
        provider: "openai",
        model: "gpt-test",
        prompt_version: "2",
        text_sha256: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        fields_sent: ["title", "description"],
        redacted: true,
        redacted_kinds: ["email", "secret"],
        skipped: {},
      },
    },
    ai_provider: "openai",
    ai_model: "gpt-test",
    ai_calls: 1,
    input_tokens: 100,
    output_tokens: 20,
    ai_latency_ms: 300,
    cost_usd: 0.0001,
    scored_at: "2026-01-02T03:05:00Z",
    overrides: [],
  };
}

interface Server {
  permissions?: readonly string[];
  task: () => Task;
  detail?: (request: SentRequest) => Response | undefined;
  onOverride?: (request: SentRequest) => Response;
  onClear?: (request: SentRequest) => Response;
  history?: () => Response;
}

function serve({ permissions = OWNER_PERMISSIONS, task, detail, onOverride, onClear, history }: Server) {
  return fakeFetch((request) => {
    const id = task().id;
    const base = `/api/v2/orgs/acme/tasks/${id}`;
    if (request.path === "/api/v2/me") return jsonResponse(200, meWith(permissions));
    if (request.path === "/api/v2/orgs/acme/scoring/active") return jsonResponse(200, ACTIVE_VERSION);
    if (request.path === base && request.method === "GET") return jsonResponse(200, task());
    if (request.path === `${base}/scores`) return jsonResponse(200, []);
    if (request.path.startsWith(`${base}/scores/`)) return detail ? detail(request) : jsonResponse(200, scoreDetail(task()));
    if (request.path === `${base}/overrides` && request.method === "POST" && onOverride) return onOverride(request);
    if (request.path === `${base}/overrides` && request.method === "GET" && history) return history();
    if (request.path.startsWith(`${base}/overrides/`) && request.method === "DELETE" && onClear) return onClear(request);
    return undefined;
  });
}

describe("TaskDetail: the reviewed score", () => {
  it("shows the reviewed value with a Reviewed badge and the machine's value, and each criterion's two values", async () => {
    const task = overridden(reviewableTask());
    const { fetch } = serve({ task: () => task });
    renderWithApi(<TaskDetail org="acme" taskId={task.id} />, makeClient(fetch));

    expect(await screen.findByTestId("task-score")).toHaveTextContent("52.0");
    expect(screen.getByTestId("machine-score")).toHaveTextContent("Machine: 60.0");
    const clarity = screen.getAllByTestId("breakdown-row").find((row) => row.dataset.criterion === "clarity");
    expect(clarity).toBeDefined();
    const row = within(clarity as HTMLElement);
    expect(row.getByText("Reviewed")).toBeInTheDocument();
    expect(row.getByTestId("breakdown-machine")).toHaveTextContent("Machine: Rating 6 of 10");
    expect(row.getByTestId("breakdown-human")).toHaveTextContent("Person: 2 of 10");
    const entry = screen.getByTestId("override-entry");
    expect(entry).toHaveTextContent("Clarity: 2 of 10 (machine: 6 of 10)");
    expect(entry).toHaveTextContent("No definition of done.");
    expect(entry).toHaveTextContent("By rita@example.test");
  });

  it("says why a skipped AI criterion has no bar", async () => {
    const base = reviewableTask();
    const task: Task = {
      ...base,
      score: base.score && {
        ...base.score,
        breakdown: base.score.breakdown.map((item) =>
          item.key === "clarity" ? { ...item, value: null, normalized: 0, contribution: 0, skipped: "budget" as const } : item,
        ),
      },
    };
    const { fetch } = serve({ task: () => task });
    renderWithApi(<TaskDetail org="acme" taskId={task.id} />, makeClient(fetch));

    expect(await screen.findByTestId("breakdown-skipped")).toHaveTextContent("Skipped: AI budget used up");
    expect(screen.queryAllByTestId("breakdown-points")).toHaveLength(2);
  });

  it("offers no review controls without score.review", async () => {
    const task = overridden(reviewableTask());
    const { fetch } = serve({ task: () => task, permissions: ["task.read"] });
    renderWithApi(<TaskDetail org="acme" taskId={task.id} />, makeClient(fetch));

    await screen.findByTestId("override-entry");
    await waitFor(() => expect(screen.getByText("openai · gpt-test")).toBeInTheDocument());
    expect(screen.queryByRole("button", { name: /override/i })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /clear/i })).not.toBeInTheDocument();
  });
});

describe("TaskDetail: overriding", () => {
  it("opens a dialog for the criterion, checks the value and reason, and sends one override with a key", async () => {
    document.cookie = "csrftoken=t";
    let current = reviewableTask();
    const { fetch, sent } = serve({
      task: () => current,
      onOverride: () => {
        current = overridden(current);
        return jsonResponse(201, OVERRIDE);
      },
    });
    renderWithApi(<TaskDetail org="acme" taskId={current.id} />, makeClient(fetch));

    await userEvent.click(await screen.findByRole("button", { name: "Override Clarity" }));
    const dialog = await screen.findByRole("dialog", { name: "Override Clarity" });
    const value = within(dialog).getByLabelText("Your rating");
    expect(value).toHaveAccessibleDescription("A rating from 0 to 10. The machine's: 6 of 10.");

    await userEvent.click(within(dialog).getByRole("button", { name: "Save override" }));
    expect(await within(dialog).findByText("Enter a value.")).toBeInTheDocument();
    expect(within(dialog).getByText("Say why the machine's value is wrong.")).toBeInTheDocument();
    expect(value).toHaveFocus();
    await userEvent.type(value, "12");
    await userEvent.type(within(dialog).getByLabelText("Reason"), "  No definition of done.  ");
    await userEvent.click(within(dialog).getByRole("button", { name: "Save override" }));
    expect(await within(dialog).findByText("A rating is from 0 to 10.")).toBeInTheDocument();
    expect(sent.filter((request) => request.method === "POST")).toHaveLength(0);

    await userEvent.clear(value);
    await userEvent.type(value, "2");
    await userEvent.dblClick(within(dialog).getByRole("button", { name: "Save override" }));

    await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());
    const posts = sent.filter((request) => request.method === "POST");
    expect(posts).toHaveLength(1);
    expect(posts[0]?.body).toEqual({ criterion: "clarity", value: 2, reason: "No definition of done." });
    expect(posts[0]?.headers.get("Idempotency-Key")).toMatch(/^[0-9a-f-]{32,36}$/);
    // The task is fetched again: the header shows the reviewed value.
    expect(await screen.findByTestId("machine-score")).toHaveTextContent("Machine: 60.0");
    expect(screen.getByTestId("task-score")).toHaveTextContent("52.0");
    expect(screen.getByTestId("toast")).toHaveTextContent("Clarity is now 2 of 10 (the machine's: 6 of 10).");
  });

  it("overrides the whole score in 0–100 and shows the server's field errors by their fields", async () => {
    document.cookie = "csrftoken=t";
    const task = reviewableTask();
    const { fetch, sent } = serve({
      task: () => task,
      onOverride: () =>
        problemResponse(422, {
          title: "Invalid",
          detail: "The override is not valid.",
          errors: [{ field: "reason", message: "Say why the machine's value is wrong." }],
        }),
    });
    renderWithApi(<TaskDetail org="acme" taskId={task.id} />, makeClient(fetch));

    await userEvent.click(await screen.findByRole("button", { name: "Override score" }));
    const dialog = await screen.findByRole("dialog", { name: "Override the score" });
    const value = within(dialog).getByLabelText("Your score");
    expect(value).toHaveAccessibleDescription("A score from 0 to 100. The machine's: 60.0.");
    await userEvent.type(value, "85");
    await userEvent.type(within(dialog).getByLabelText("Reason"), "x");
    await userEvent.click(within(dialog).getByRole("button", { name: "Save override" }));

    const reason = within(dialog).getByLabelText("Reason");
    await waitFor(() => expect(reason).toHaveAccessibleDescription(/Say why the machine's value is wrong\./));
    expect(reason).toHaveFocus();
    expect(within(dialog).getByRole("alert")).toHaveTextContent("Please correct the fields marked below.");
    expect(sent.find((request) => request.method === "POST")?.body).toEqual({ criterion: null, value: 85, reason: "x" });
  });

  it("explains a 409 when the task has no score to review any more", async () => {
    document.cookie = "csrftoken=t";
    const task = reviewableTask();
    const { fetch } = serve({
      task: () => task,
      onOverride: () => problemResponse(409, { title: "Conflict", detail: "The task has no score yet; review it once it is scored." }),
    });
    renderWithApi(<TaskDetail org="acme" taskId={task.id} />, makeClient(fetch));

    await userEvent.click(await screen.findByRole("button", { name: "Override Reach" }));
    const dialog = await screen.findByRole("dialog", { name: "Override Reach" });
    expect(within(dialog).getByLabelText("Your value")).toHaveAccessibleDescription(
      "A number: the attribute's value, as the task would give it. The machine's: 400.",
    );
    await userEvent.type(within(dialog).getByLabelText("Your value"), "900");
    await userEvent.type(within(dialog).getByLabelText("Reason"), "Reach is per month.");
    await userEvent.click(within(dialog).getByRole("button", { name: "Save override" }));
    expect(await within(dialog).findByRole("alert")).toHaveTextContent("The task has no score yet; review it once it is scored.");
  });
});

describe("TaskDetail: clearing and history", () => {
  it("clears an override after a confirmation and moves the focus to the reviews", async () => {
    document.cookie = "csrftoken=t";
    let current = overridden(reviewableTask());
    const { fetch, sent } = serve({
      task: () => current,
      onClear: () => {
        current = reviewableTask({ id: current.id });
        return new Response(null, { status: 204 });
      },
    });
    renderWithApi(<TaskDetail org="acme" taskId={current.id} />, makeClient(fetch));

    await userEvent.click(await screen.findByRole("button", { name: "Clear the override of Clarity" }));
    const dialog = await screen.findByRole("dialog", { name: "Clear the override of Clarity?" });
    expect(dialog).toHaveTextContent("The machine's value counts again (now 6 of 10). The override stays in the history.");
    expect(sent.filter((request) => request.method === "DELETE")).toHaveLength(0);
    await userEvent.click(within(dialog).getByRole("button", { name: "Clear override" }));

    await waitFor(() => expect(screen.queryByTestId("override-entry")).not.toBeInTheDocument());
    expect(sent.filter((request) => request.method === "DELETE").map((request) => request.path)).toEqual([
      `/api/v2/orgs/acme/tasks/${current.id}/overrides/${OVERRIDE.id}`,
    ]);
    expect(screen.queryByTestId("machine-score")).not.toBeInTheDocument();
    await waitFor(() => expect(screen.getByRole("heading", { name: "Reviews" })).toHaveFocus());
  });

  it("loads the full history only when it is opened", async () => {
    const task = overridden(reviewableTask());
    const cleared: TaskOverride = { ...OVERRIDE, id: "old", value: 9, reason: "Too low.", cleared_at: "2026-01-03T09:00:00Z", cleared_by: "sam@example.test" };
    const { fetch, sent } = serve({ task: () => task, history: () => jsonResponse(200, [OVERRIDE, cleared]) });
    renderWithApi(<TaskDetail org="acme" taskId={task.id} />, makeClient(fetch));

    const toggle = await screen.findByRole("button", { name: "Show the full history" });
    expect(toggle).toHaveAttribute("aria-expanded", "false");
    expect(sent.some((request) => request.path.endsWith("/overrides"))).toBe(false);
    await userEvent.click(toggle);
    const history = await screen.findByTestId("override-history");
    expect(within(history).getAllByRole("listitem")).toHaveLength(2);
    expect(history).toHaveTextContent("cleared by sam@example.test");
    expect(screen.getByRole("button", { name: "Hide the history" })).toHaveAttribute("aria-expanded", "true");
  });
});

describe("TaskDetail: how this score was made", () => {
  it("shows the inputs: fields sent, redaction, provider, model, prompt, hash and the recomputed value", async () => {
    const task = reviewableTask();
    const { fetch } = serve({ task: () => task });
    renderWithApi(<TaskDetail org="acme" taskId={task.id} />, makeClient(fetch));

    const inputs = await screen.findByTestId("score-inputs");
    expect(screen.getByTestId("score-fields-sent")).toHaveTextContent("The title and description");
    expect(screen.getByTestId("score-redacted")).toHaveTextContent("Yes: email addresses; passwords, API keys, tokens and other secrets");
    expect(inputs).toHaveTextContent("openai · gpt-test · prompt version 2");
    expect(inputs).toHaveTextContent("0123456789ab…");
    expect(inputs).not.toHaveTextContent("0123456789abcdef0123");
    expect(screen.getByTestId("score-recomputed")).toHaveTextContent("60.0Same as the machine's score");
  });

  it("explains when the inputs cannot be loaded, and tries again", async () => {
    const task = reviewableTask();
    let calls = 0;
    const { fetch } = serve({
      task: () => task,
      detail: () => {
        calls += 1;
        return calls === 1 ? problemResponse(503, { title: "Unavailable" }) : jsonResponse(200, scoreDetail(task));
      },
    });
    renderWithApi(<TaskDetail org="acme" taskId={task.id} />, makeClient(fetch));

    expect(await screen.findByText(/The score's inputs could not be loaded/)).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Try again" }));
    expect(await screen.findByTestId("score-inputs")).toBeInTheDocument();
  });
});
