import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";

import { TaskList } from "@/components/tasks/TaskList";

import { fakeFetch, jsonResponse, makeClient, renderWithApi, reviewableTask } from "./helpers";

const navigation = vi.hoisted(() => ({ search: "", replace: vi.fn<(href: string) => void>() }));

vi.mock("next/navigation", () => ({
  useRouter: () => ({ replace: navigation.replace, push: vi.fn() }),
  usePathname: () => "/orgs/acme/tasks",
  useSearchParams: () => new URLSearchParams(navigation.search),
}));

beforeEach(() => {
  navigation.search = "";
  navigation.replace.mockReset();
});

describe("TaskList and reviews", () => {
  it("marks a reviewed task's score, and says the machine's", async () => {
    const base = reviewableTask({ title: "Dark mode" });
    const task = { ...base, score: base.score && { ...base.score, value: 80, overridden: true } };
    const { fetch } = fakeFetch((request) => (request.path === "/api/v2/orgs/acme/tasks" ? jsonResponse(200, { items: [task], next_cursor: null }) : undefined));
    renderWithApi(<TaskList org="acme" />, makeClient(fetch));

    const row = await screen.findByTestId("task-row");
    expect(within(row).getByTestId("task-score")).toHaveTextContent("80.0");
    expect(within(row).getByTestId("reviewed-marker")).toHaveTextContent("Reviewed, the machine's score 60.0");
  });

  it("filters on review through the URL, as the API's overridden parameter", async () => {
    navigation.search = "overridden=true";
    const { fetch, sent } = fakeFetch((request) =>
      request.path === "/api/v2/orgs/acme/tasks" ? jsonResponse(200, { items: [], next_cursor: null }) : undefined,
    );
    renderWithApi(<TaskList org="acme" />, makeClient(fetch));

    expect(await screen.findByText("No overridden tasks")).toBeInTheDocument();
    const lists = sent.filter((request) => request.path === "/api/v2/orgs/acme/tasks");
    expect(lists.every((request) => request.search.get("overridden") === "true")).toBe(true);
    expect(screen.getByLabelText("Review")).toHaveValue("overridden");

    await userEvent.selectOptions(screen.getByLabelText("Review"), "Not overridden");
    expect(navigation.replace).toHaveBeenLastCalledWith("/orgs/acme/tasks?overridden=false", { scroll: false });
    await userEvent.click(screen.getByRole("button", { name: "Clear the filters" }));
    await waitFor(() => expect(navigation.replace).toHaveBeenLastCalledWith("/orgs/acme/tasks", { scroll: false }));
  });

  it("says no task matches when not-overridden finds nothing", async () => {
    navigation.search = "overridden=false";
    const { fetch } = fakeFetch((request) =>
      request.path === "/api/v2/orgs/acme/tasks" ? jsonResponse(200, { items: [], next_cursor: null }) : undefined,
    );
    renderWithApi(<TaskList org="acme" />, makeClient(fetch));

    expect(await screen.findByText("No task matches")).toBeInTheDocument();
  });
});
