// Runs Lighthouse on pages of the web app as a logged-in person sees them: Debian's chromium is
// started once, the session cookies are set in it, and Lighthouse keeps them (no storage reset).
// Lighthouse's --extra-headers cannot do this: the app's own fetches would go without them.
//
//   node scripts/lighthouse.mjs '{"urls": [...], "cookies": [{"name", "value", "url"}],
//                                 "chromePath": "/usr/bin/chromium", "preset": "mobile"|"desktop",
//                                 "outputDir": "/tmp/...", "cache": "cold"|"warm"|"shared",
//                                 "warmupPath": "/password/forgot"}'
//
// "cache": "cold" (the default) empties the browser's HTTP cache before each page, so every page
// loads its scripts as a first visit does (with Lighthouse's storage reset off, the pages would
// otherwise share one cache, and each page after the first would find most scripts cached);
// "warm" empties it and then opens "warmupPath" (another page of the app) before each page, so
// every page finds the shared scripts cached and loads only its own; "shared" keeps the cache from
// page to page. Cookies are kept in every case.
//
// Prints one JSON object: {url: {scores, metrics, numeric, cpuMs, blockingCpuMs, failing, console, report}}.
import { writeFileSync } from "node:fs";
import { join } from "node:path";

import lighthouse from "lighthouse";
import desktopConfig from "lighthouse/core/config/desktop-config.js";
import { TraceProcessor } from "lighthouse/core/lib/tracehouse/trace-processor.js";
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

/**
 * The main thread's CPU time in the page's trace, less sensitive than wall-clock figures to other
 * work on a shared machine (a task that waits for a core takes longer, not more CPU): `cpuMs`, the
 * thread time of every task from the navigation on; `blockingCpuMs`, what total blocking time
 * would be from thread times (each task after the first contentful paint, times the preset's CPU
 * slowdown, less 50 ms).
 */
function cpuFigures(trace, slowdown) {
  const processed = TraceProcessor.processTrace(trace);
  const { timestamps } = TraceProcessor.processNavigation(processed);
  let cpu = 0;
  let blocking = 0;
  for (const event of processed.mainThreadEvents) {
    if (!TraceProcessor.isScheduleableTask(event) || !event.dur || event.ts < processed.timeOriginEvt.ts) continue;
    const ms = (event.tdur ?? event.dur) / 1000;
    cpu += ms;
    if (event.ts >= timestamps.firstContentfulPaint) blocking += Math.max(0, ms * slowdown - 50);
  }
  return { cpuMs: Math.round(cpu), blockingCpuMs: Math.round(blocking) };
}

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
    if (options.cache !== "shared") {
      const session = await page.createCDPSession();
      await session.send("Network.clearBrowserCache");
      await session.detach();
    }
    if (options.cache === "warm") {
      // What a person who has just opened another page of the app has in the cache: the framework's
      // and the shared components' scripts and styles (not this page's own code, nor its data).
      const warmup = await browser.newPage();
      await warmup.goto(new URL(options.warmupPath, url).href, { waitUntil: "networkidle0" });
      await warmup.close();
    }
    const flags = { onlyCategories: CATEGORIES, disableStorageReset: true, output: "json", logLevel: "error" };
    const config = options.preset === "desktop" ? desktopConfig : undefined;
    const result = await lighthouse(url, flags, config, page);
    const { lhr } = result;
    const report = join(options.outputDir, `report-${index}.json`);
    writeFileSync(report, result.report);
    const slowdown = lhr.configSettings.throttlingMethod === "simulate" ? lhr.configSettings.throttling.cpuSlowdownMultiplier : 1;
    results[url] = {
      finalUrl: lhr.finalDisplayedUrl,
      scores: Object.fromEntries(CATEGORIES.map((id) => [id, Math.round(100 * (lhr.categories[id]?.score ?? 0))])),
      metrics: Object.fromEntries(METRICS.map((id) => [id, lhr.audits[id]?.displayValue ?? null])),
      numeric: Object.fromEntries(METRICS.map((id) => [id, lhr.audits[id]?.numericValue ?? null])),
      ...cpuFigures(result.artifacts.Trace, slowdown),
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
