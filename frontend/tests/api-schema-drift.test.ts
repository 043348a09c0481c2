// @vitest-environment node
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { describe, expect, it } from "vitest";

const frontendDir = fileURLToPath(new URL("..", import.meta.url));
const specPath = fileURLToPath(new URL("../../backend/openapi/v2.json", import.meta.url));
const cliPath = fileURLToPath(new URL("../node_modules/openapi-typescript/bin/cli.js", import.meta.url));

describe("src/lib/api/schema.d.ts", () => {
  it.skipIf(!existsSync(specPath))("matches the backend's committed OpenAPI file (run `npm run gen:api`)", () => {
    const result = spawnSync(
      process.execPath,
      [cliPath, "../backend/openapi/v2.json", "-o", "src/lib/api/schema.d.ts", "--check"],
      { cwd: frontendDir, encoding: "utf8" },
    );
    expect(result.stderr + result.stdout).not.toMatch(/not up-to-date/);
    expect(result.status).toBe(0);
  }, 30_000);
});

describe("src/lib/api/limits.ts", () => {
  it.skipIf(!existsSync(specPath))("matches the backend's committed OpenAPI file (run `npm run gen:api`)", () => {
    const result = spawnSync(process.execPath, ["scripts/gen-limits.mjs", "--check"], {
      cwd: frontendDir,
      encoding: "utf8",
    });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
  });
});
