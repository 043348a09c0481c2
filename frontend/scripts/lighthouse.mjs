// Runs Lighthouse on pages of the web app as a logged-in person sees them: Debian's chromium is
// started once, the session cookies are set in it, and Lighthouse keeps them (no storage reset).
// Lighthouse's --extra-headers cannot do this: the app's own fetches would go without them.
//
//   node scripts/lighthouse.mjs '{"urls": [...], "cookies": [{"name", "value", "url"}],
//                                 "chromePath": "/usr/bin/chromium", "preset": "mobile"|"desktop",
//                                 "outputDir": "/tmp/..."}'
//
// Prints one JSON object: {url: {scores, metrics, failing, console, report}}.
import { writeFileSync } from "node:fs";
import { join } from "node:path";

import lighthouse from "lighthouse";
import desktopConfig from "lighthouse/core/config/desktop-config.js";
import puppeteer from "puppeteer-core";

const CATEGORIES = ["performance", "accessibility", "best-practices"];
const METRICS = [
  "first-contentful-paint",
  "largest-contentful-paint",
  "total-blocking-time",
  "cumulative-layout-shift",
  "speed-index",
  "interactive",
];

const options = JSON.parse(process.argv[2]);
const browser = await puppeteer.launch({
  executablePath: options.chromePath,
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
const results = {};
try {
  await browser.setCookie(...options.cookies);
  for (const [index, url] of options.urls.entries()) {
    const page = await browser.newPage();
    const flags = { onlyCategories: CATEGORIES, disableStorageReset: true, output: "json", logLevel: "error" };
    const config = options.preset === "desktop" ? desktopConfig : undefined;
    const result = await lighthouse(url, flags, config, page);
    const { lhr } = result;
    const report = join(options.outputDir, `report-${index}.json`);
    writeFileSync(report, result.report);
    results[url] = {
      finalUrl: lhr.finalDisplayedUrl,
      scores: Object.fromEntries(CATEGORIES.map((id) => [id, Math.round(100 * (lhr.categories[id]?.score ?? 0))])),
      metrics: Object.fromEntries(METRICS.map((id) => [id, lhr.audits[id]?.displayValue ?? null])),
      failing: Object.values(lhr.audits)
        .filter((audit) => audit.scoreDisplayMode === "binary" && audit.score !== null && audit.score < 1)
        .map((audit) => audit.id),
      console: (lhr.audits["errors-in-console"]?.details?.items ?? []).map((item) => item.description),
      report,
    };
    await page.close();
  }
} finally {
  await browser.close();
}
console.info(JSON.stringify(results));
