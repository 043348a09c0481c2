import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { TaskForm } from "@/components/TaskForm";
import { buildTaskInput, newAttributeRow } from "@/lib/task-form";

import { fakeFetch, jsonResponse, makeClient, makeTask, problemResponse, renderWithApi } from "./helpers";

describe("buildTaskInput", () => {
  it("builds the attributes object from the rows, skipping blank rows", () => {
    const result = buildTaskInput({
      title: "  Ship it  ",
      description: "Soon",
      rows: [newAttributeRow("reach", "250"), newAttributeRow(" impact ", "7.5"), newAttributeRow("", "")],
    });

    expect(result).toEqual({
      ok: true,
      input: { title: "Ship it", description: "Soon", attributes: { reach: 250, impact: 7.5 } },
    });
  });

  it("flags a missing title, an unnamed value, a non-number and a duplicate name", () => {
    const unnamed = newAttributeRow("", "3");
    const empty = newAttributeRow("effort", "");
    const first = newAttributeRow("reach", "1");
    const duplicate = newAttributeRow("reach", "2");

    const result = buildTaskInput({ title: " ", description: "", rows: [unnamed, empty, first, duplicate] });

    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual({ title: "Enter a title." });
    expect(Object.keys(result.rowErrors).sort()).toEqual([unnamed.key, empty.key, duplicate.key].sort());
  });
});

function rowValues() {
  return screen.getAllByTestId("attribute-row").map((row) => {
    const [name, value] = within(row).getAllByRole("textbox").concat(within(row).getAllByRole("spinbutton"));
    return [(name as HTMLInputElement).value, (value as HTMLInputElement).value];
  });
}

describe("TaskForm", () => {
  it("is prefilled with the default formula's four attributes", () => {
    renderWithApi(<TaskForm org="acme" />, makeClient(fakeFetch(() => undefined).fetch));

    expect(screen.getByLabelText("Title")).toHaveValue("");
    expect(screen.getByLabelText("Description")).toHaveValue("");
    expect(rowValues().map(([name]) => name)).toEqual(["reach", "impact", "confidence", "effort"]);
  });

  it("adds and removes attribute rows", async () => {
    const user = userEvent.setup();
    renderWithApi(<TaskForm org="acme" />, makeClient(fakeFetch(() => undefined).fetch));

    await user.click(screen.getByRole("button", { name: "Remove attribute impact" }));
    await user.click(screen.getByRole("button", { name: "Add attribute" }));
    await user.type(screen.getByLabelText("Attribute 4 name"), "urgency");
    await user.type(screen.getByLabelText("Attribute 4 value"), "9");

    expect(rowValues()).toEqual([
      ["reach", "100"],
      ["confidence", "80"],
      ["effort", "3"],
      ["urgency", "9"],
    ]);
  });

  it("posts the attributes object built from the rows", async () => {
    document.cookie = "csrftoken=abc";
    const user = userEvent.setup();
    const { fetch, sent } = fakeFetch((request) =>
      request.method === "POST" ? jsonResponse(201, makeTask({ title: "Ship it" })) : jsonResponse(200, { items: [], next_cursor: null }),
    );
    renderWithApi(<TaskForm org="acme" />, makeClient(fetch));

    await user.type(screen.getByLabelText("Title"), "Ship it");
    await user.type(screen.getByLabelText("Description"), "Before Friday");
    const effort = screen.getByLabelText("Attribute 4 value");
    await user.clear(effort);
    await user.type(effort, "2.5");
    await user.click(screen.getByRole("button", { name: "Submit task" }));

    await waitFor(() => expect(sent.some((request) => request.method === "POST")).toBe(true));
    const post = sent.find((request) => request.method === "POST");
    expect(post?.path).toBe("/api/v2/orgs/acme/tasks");
    expect(post?.headers.get("X-CSRFToken")).toBe("abc");
    expect(post?.body).toEqual({
      title: "Ship it",
      description: "Before Friday",
      attributes: { reach: 100, impact: 5, confidence: 80, effort: 2.5 },
    });
    await waitFor(() => expect(screen.getByLabelText("Title")).toHaveValue(""));
  });

  it("shows each field's 422 message next to it and keeps the input", async () => {
    document.cookie = "csrftoken=abc";
    const user = userEvent.setup();
    const { fetch } = fakeFetch(() =>
      problemResponse(422, {
        title: "Validation failed",
        detail: "Some fields are invalid.",
        errors: [
          { field: "title", message: "A task with this title already exists." },
          { field: "attributes.effort", message: "Must be between 0 and 10." },
        ],
      }),
    );
    renderWithApi(<TaskForm org="acme" />, makeClient(fetch));

    await user.type(screen.getByLabelText("Title"), "Duplicate");
    const effort = screen.getByLabelText("Attribute 4 value");
    await user.clear(effort);
    await user.type(effort, "42");
    await user.click(screen.getByRole("button", { name: "Submit task" }));

    const title = screen.getByLabelText("Title");
    await waitFor(() => expect(title).toHaveAccessibleDescription("A task with this title already exists."));
    expect(title).toHaveAttribute("aria-invalid", "true");
    expect(title).toHaveValue("Duplicate");

    const effortRow = screen.getAllByTestId("attribute-row")[3];
    expect(effortRow).toBeDefined();
    expect(within(effortRow as HTMLElement).getByText("Must be between 0 and 10.")).toBeVisible();
    expect(screen.getByLabelText("Attribute 4 value")).toHaveValue(42);
    expect(screen.getByRole("alert")).toHaveTextContent("Some fields are invalid.");
  });

  it("shows a missing title without calling the API", async () => {
    const user = userEvent.setup();
    const { fetch, sent } = fakeFetch(() => undefined);
    renderWithApi(<TaskForm org="acme" />, makeClient(fetch));

    await user.click(screen.getByRole("button", { name: "Submit task" }));

    expect(screen.getByLabelText("Title")).toHaveAccessibleDescription("Enter a title.");
    expect(sent).toHaveLength(0);
  });
});
