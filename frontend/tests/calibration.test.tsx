import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { CalibrationSection } from "@/components/scoring/CalibrationSection";
import type { Calibration } from "@/lib/api/types";

import { fakeFetch, jsonResponse, makeClient, problemResponse, renderWithApi } from "./helpers";

const CALIBRATION_PATH = "/api/v2/orgs/acme/scoring/models/3/versions/1/calibration";

function calibration(labels: number): Calibration {
  return {
    version_id: 11,
    version: 1,
    criteria: [
      {
        key: "clarity",
        label: "Clarity",
        rubric: "Is it clear?",
        from_reviews: labels === 0 ? 0 : 3,
        from_imports: labels === 0 ? 0 : labels - 3,
        agreement:
          labels < 2
            ? { labels, spearman: null, mae: null, bias: null, pairwise_accuracy: null, pairs: 0 }
            : { labels, spearman: 0.62, mae: 1.4, bias: -0.5, pairwise_accuracy: 0.75, pairs: 8 },
      },
    ],
  };
}

function serve(answer: () => Calibration, onImport?: (body: unknown) => Response) {
  return fakeFetch((request) => {
    if (request.path === CALIBRATION_PATH) return jsonResponse(200, answer());
    if (request.path === "/api/v2/orgs/acme/scoring/labels" && request.method === "POST" && onImport) return onImport(request.body);
    return undefined;
  });
}

describe("CalibrationSection", () => {
  it("says how to get labels when there are none", async () => {
    const { fetch } = serve(() => calibration(0));
    renderWithApi(<CalibrationSection org="acme" modelId={3} number={1} canReview={false} />, makeClient(fetch));

    expect(await screen.findByText("No labels yet: override an AI criterion on a task, or import a CSV")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Import ratings" })).not.toBeInTheDocument();
  });

  it("shows a table of figures per AI criterion, read in words, and what they mean", async () => {
    const { fetch } = serve(() => calibration(10));
    renderWithApi(<CalibrationSection org="acme" modelId={3} number={1} canReview={false} />, makeClient(fetch));

    const table = await screen.findByRole("table", { name: "How the AI's ratings of Clarity agree with people's" });
    const rows = within(table).getAllByTestId("calibration-figure").map((row) => row.textContent);
    expect(rows).toEqual([
      "Labels10Tasks rated by both a person and the AI.",
      "Spearman ρ0.62Moderate agreement on which tasks rate higher.",
      "Mean absolute error1.4The AI is off by 1.4 points of 10 on average.",
      "Bias-0.5The AI rates 0.5 points lower than people.",
      "Pairwise accuracy75%Of 8 pairs people rate 4 or more apart, the AI orders 75% the same way.",
    ]);
    expect(screen.getByTestId("calibration-criterion")).toHaveTextContent("People's ratings: 3 from reviews, 7 imported.");
    expect(screen.getByText("What these figures mean")).toBeInTheDocument();
  });

  it("imports pasted ratings with score.review and says how many", async () => {
    document.cookie = "csrftoken=t";
    let imported = false;
    const bodies: unknown[] = [];
    const { fetch, sent } = serve(
      () => calibration(imported ? 12 : 0),
      (body) => {
        bodies.push(body);
        imported = true;
        return jsonResponse(201, { imported: 2, criteria: ["clarity"] });
      },
    );
    renderWithApi(<CalibrationSection org="acme" modelId={3} number={1} canReview />, makeClient(fetch));

    const paste = await screen.findByLabelText("Or paste the ratings");
    await userEvent.click(screen.getByRole("button", { name: "Import ratings" }));
    expect(paste).toHaveAccessibleDescription(/Choose a file or paste the ratings\./);
    await userEvent.click(paste);
    await userEvent.paste("task_id,criterion,rating\nabc,clarity,7\ndef,clarity,3\n");
    await userEvent.click(screen.getByRole("button", { name: "Import ratings" }));

    expect(await screen.findByText("Imported 2 ratings")).toBeInTheDocument();
    expect(bodies).toEqual([{ csv: "task_id,criterion,rating\nabc,clarity,7\ndef,clarity,3\n" }]);
    expect(sent.find((request) => request.method === "POST")?.headers.get("Idempotency-Key")).toBeTruthy();
    // The figures are fetched again with the new labels.
    await waitFor(() => expect(screen.getByRole("table")).toBeInTheDocument());
  });

  it("reads a chosen file into the text, and lists a refusal's bad rows with nothing imported", async () => {
    document.cookie = "csrftoken=t";
    const { fetch } = serve(
      () => calibration(0),
      () =>
        problemResponse(422, {
          title: "Invalid",
          detail: "2 rows are not valid; nothing was imported.",
          errors: [
            { field: "rows.2.rating", message: "Give a rating from 0 to 10." },
            { field: "rows.1.criterion", message: "'speed' is not an AI criterion of this organization's scoring versions." },
          ],
        }),
    );
    renderWithApi(<CalibrationSection org="acme" modelId={3} number={1} canReview />, makeClient(fetch));

    const file = new File(["task_id,criterion,rating\nabc,speed,7\ndef,clarity,12\n"], "ratings.csv", { type: "text/csv" });
    await userEvent.upload(await screen.findByLabelText("CSV file"), file);
    await waitFor(() => expect(screen.getByLabelText("Or paste the ratings")).toHaveValue("task_id,criterion,rating\nabc,speed,7\ndef,clarity,12\n"));
    await userEvent.click(screen.getByRole("button", { name: "Import ratings" }));

    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("Nothing was imported");
    expect(within(screen.getByTestId("labels-import-errors")).getAllByRole("listitem").map((item) => item.textContent)).toEqual([
      "Row 1 (line 2), criterion: 'speed' is not an AI criterion of this organization's scoring versions.",
      "Row 2 (line 3), rating: Give a rating from 0 to 10.",
    ]);
  });
});
