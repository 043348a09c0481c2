import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { TaskForm } from "@/components/tasks/TaskForm";

import { ACTIVE_VERSION, deferred, fakeFetch, jsonResponse, makeClient, makeTask, problemResponse, renderWithApi } from "./helpers";

function routes(onSubmit: () => Response | Promise<Response>) {
  return fakeFetch((request) => {
    if (request.path === "/api/v2/orgs/acme/scoring/active") return jsonResponse(200, ACTIVE_VERSION);
    if (request.method === "POST" && request.path === "/api/v2/orgs/acme/tasks") return onSubmit();
    return undefined;
  });
}

describe("TaskForm", () => {
  it("builds its fields from the active version's attribute criteria, with their ranges", async () => {
    document.cookie = "csrftoken=t";
    const { fetch } = routes(() => jsonResponse(201, makeTask()));
    renderWithApi(<TaskForm org="acme" />, makeClient(fetch));

    const reach = await screen.findByLabelText("Reach");
    expect(reach).toHaveAccessibleDescription("0–1,000, higher is better");
    expect(screen.getByLabelText("Effort")).toHaveAccessibleDescription("0–10, lower is better");
    expect(screen.getByLabelText("Title")).toHaveAttribute("maxLength", "200");
    expect(screen.getByText(/rates Clarity from the title and description/)).toBeInTheDocument();
  });

  it("sends one request with an Idempotency-Key however often it is clicked", async () => {
    document.cookie = "csrftoken=t";
    const answer = deferred<Response>();
    const { fetch, sent } = routes(() => answer.promise);
    renderWithApi(<TaskForm org="acme" />, makeClient(fetch));

    await userEvent.type(await screen.findByLabelText("Title"), "Dark mode");
    await userEvent.type(screen.getByLabelText("Reach"), "400");
    const submit = screen.getByRole("button", { name: "Submit task" });
    await userEvent.dblClick(submit);
    await userEvent.click(submit);
    answer.resolve(jsonResponse(201, makeTask({ title: "Dark mode" })));

    await waitFor(() => expect(screen.getByLabelText("Title")).toHaveValue(""));
    const posts = sent.filter((request) => request.method === "POST");
    expect(posts).toHaveLength(1);
    expect(posts[0]?.headers.get("Idempotency-Key")).toMatch(/^[0-9a-f-]{32,36}$/);
    expect(posts[0]?.body).toEqual({ title: "Dark mode", description: "", attributes: { reach: 400 } });
  });

  it("reuses the key when the same task is retried after a failure, and keeps what was typed", async () => {
    document.cookie = "csrftoken=t";
    let calls = 0;
    const { fetch, sent } = routes(() => {
      calls += 1;
      return calls === 1 ? problemResponse(503, { title: "Unavailable" }) : jsonResponse(201, makeTask());
    });
    renderWithApi(<TaskForm org="acme" />, makeClient(fetch));

    await userEvent.type(await screen.findByLabelText("Title"), "Exports");
    await userEvent.click(screen.getByRole("button", { name: "Submit task" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Try again in a moment");
    expect(screen.getByLabelText("Title")).toHaveValue("Exports");
    await userEvent.click(screen.getByRole("button", { name: "Submit task" }));

    await waitFor(() => expect(screen.getByLabelText("Title")).toHaveValue(""));
    const keys = sent.filter((request) => request.method === "POST").map((request) => request.headers.get("Idempotency-Key"));
    expect(keys).toHaveLength(2);
    expect(keys[0]).toBe(keys[1]);
  });

  it("shows the API's field errors next to their fields", async () => {
    document.cookie = "csrftoken=t";
    const { fetch } = routes(() =>
      problemResponse(422, {
        title: "Invalid input",
        detail: "The request is not valid; see errors.",
        errors: [
          { field: "title", message: "Title must contain a visible character." },
          { field: "attributes.reach", message: "Must be at most 1e12." },
        ],
      }),
    );
    renderWithApi(<TaskForm org="acme" />, makeClient(fetch));

    await userEvent.type(await screen.findByLabelText("Title"), "x");
    await userEvent.type(screen.getByLabelText("Reach"), "5");
    await userEvent.click(screen.getByRole("button", { name: "Submit task" }));

    await waitFor(() => expect(screen.getByLabelText("Title")).toHaveAccessibleDescription("Title must contain a visible character."));
    expect(screen.getByLabelText("Reach")).toHaveAccessibleDescription(/Must be at most 1e12\./);
    expect(screen.getByRole("alert")).toHaveTextContent("Please correct the fields marked below.");
  });

  it("checks numbers before sending", async () => {
    document.cookie = "csrftoken=t";
    const { fetch, sent } = routes(() => jsonResponse(201, makeTask()));
    renderWithApi(<TaskForm org="acme" />, makeClient(fetch));

    await userEvent.type(await screen.findByLabelText("Title"), "x");
    await userEvent.type(screen.getByLabelText("Effort"), "lots");
    await userEvent.click(screen.getByRole("button", { name: "Submit task" }));

    expect(await screen.findByText("Enter a number.")).toBeInTheDocument();
    expect(sent.filter((request) => request.method === "POST")).toHaveLength(0);
  });
});
