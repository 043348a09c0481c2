import { describe, expect, it } from "vitest";

import { batchErrorsByLine, exampleCsv, MAX_IMPORT_ROWS, parseTaskCsv } from "@/lib/csv-import";

describe("parseTaskCsv", () => {
  it("reads titles, descriptions and attribute columns, skipping empty cells", () => {
    const parsed = parseTaskCsv('title,description,reach,effort\n"Dark mode","Users ask, often",400,\nExports,,10,2\n');

    expect(parsed.fileErrors).toEqual([]);
    expect(parsed.attributeColumns).toEqual(["reach", "effort"]);
    expect(parsed.rows).toEqual([
      { line: 2, input: { title: "Dark mode", description: "Users ask, often", attributes: { reach: 400 } }, errors: [] },
      { line: 3, input: { title: "Exports", description: "", attributes: { reach: 10, effort: 2 } }, errors: [] },
    ]);
  });

  it("names the line of each bad row", () => {
    const parsed = parseTaskCsv("title,reach\nGood,1\n,2\nBad number,lots\n");

    expect(parsed.rows.map((row) => [row.line, row.errors])).toEqual([
      [2, []],
      [3, ["The title is empty."]],
      [4, ["“reach” is “lots”: enter a number."]],
    ]);
  });

  it("refuses a file without a title column or with a bad column name", () => {
    expect(parseTaskCsv("name,reach\nx,1\n").fileErrors).toContain("The first line must name the columns, one of them “title”.");
    expect(parseTaskCsv("title,Reach Now\nx,1\n").fileErrors[0]).toMatch(/Column “reach now” is not a valid attribute name/);
  });

  it("refuses more rows than one batch takes", () => {
    const rows = Array.from({ length: MAX_IMPORT_ROWS + 1 }, (_, index) => `Task ${index}`).join("\n");
    expect(parseTaskCsv(`title\n${rows}\n`).fileErrors).toContain(
      `The file has ${MAX_IMPORT_ROWS + 1} tasks; import at most ${MAX_IMPORT_ROWS} at a time.`,
    );
  });

  it("flags a row with more cells than columns", () => {
    expect(parseTaskCsv("title,reach\nx,1,2\n").rows[0]?.errors).toEqual(["It has more cells than the 2 columns."]);
  });

  it("ignores a byte-order mark and header case", () => {
    const parsed = parseTaskCsv("\uFEFFTitle,REACH\nx,1\n");
    expect(parsed.fileErrors).toEqual([]);
    expect(parsed.rows[0]?.input).toEqual({ title: "x", description: "", attributes: { reach: 1 } });
  });

  it("writes an example that it reads back without errors", () => {
    const parsed = parseTaskCsv(exampleCsv(["reach", "effort"]));
    expect(parsed.fileErrors).toEqual([]);
    expect(parsed.rows).toHaveLength(1);
    expect(parsed.rows[0]?.errors).toEqual([]);
  });
});

describe("batchErrorsByLine", () => {
  it("maps the batch's field paths to file lines", () => {
    const { byLine, other } = batchErrorsByLine([
      { field: "tasks.0.title", message: "Too long." },
      { field: "tasks.3.attributes.reach", message: "Too big." },
      { field: "tasks", message: "Too many." },
    ]);
    expect([...byLine.entries()]).toEqual([
      [2, ["title: Too long."]],
      [5, ["attributes.reach: Too big."]],
    ]);
    expect(other).toEqual(["tasks: Too many."]);
  });
});
