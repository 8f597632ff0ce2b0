// Measures the wizard's budgets on the release build in ./dist (scripts/web-budget.sh), in headless Chromium:
//   1. wasm + JS + CSS transferred, gzip -9, at most 150 KB (150,000 bytes). The page loads in two
//      parts: what it fetches before the first step is interactive, and the second module (the
//      rest of the wizard and the documents), which the first fetches once it has painted. Both
//      are printed per file (raw and gzip, from the files the browser actually requested, split
//      by when each fetch started: before or after the first step was interactive); the budget
//      applies to the first part, and the whole flow's total is compared with it for reference.
//   2. time from navigation to an interactive first step (the kind cards rendered, with their
//      handlers attached by Yew) on localhost: median of several cold loads, at most 500 ms.
// Exits 1 when a budget is exceeded.
import fs from "node:fs/promises";
import path from "node:path";
import zlib from "node:zlib";

import { DIST, launchBrowser, startServer } from "./harness.mjs";

const SIZE_BUDGET = 150_000;
const TIME_BUDGET_MS = 500;
const LOADS = Number(process.env.LOADS ?? 9);
const COUNTED = new Set([".wasm", ".js", ".css"]);

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
let failed = false;

/** Resolves with window.__tlReady: when the recommended kind card is in the page. */
async function watchReady(page) {
  await page.addInitScript(() => {
    const ready = () => {
      const card = document.getElementById("tl-kind-cross-account-role");
      if (card && !window.__tlReady) window.__tlReady = performance.now();
      return Boolean(card);
    };
    new MutationObserver((_, obs) => ready() && obs.disconnect()).observe(document, { childList: true, subtree: true });
  });
}

const server = await startServer();
const chrome = await launchBrowser();
const times = [];
const phases = new Map(); // file -> "first step" | "after step 1"
try {
  // Sizes: one cold load through to the access step; every wasm, JS and CSS file the page
  // fetched, by whether its fetch started before the first step was interactive.
  {
    const context = await chrome.browser.newContext();
    const page = await context.newPage();
    await watchReady(page);
    await page.goto(`${server.base}/`);
    await page.waitForFunction(() => window.__tlReady !== undefined);
    await page.click("#tl-kind-cross-account-role");
    await page.click("#tl-next");
    await page.waitForSelector("#tl-doc-trust-policy");
    const { ready, resources } = await page.evaluate(() => ({
      ready: window.__tlReady,
      resources: performance.getEntriesByType("resource").map((e) => [e.name, e.startTime]),
    }));
    for (const [url, start] of resources) {
      const file = new URL(url).pathname.slice(1);
      if (COUNTED.has(path.extname(file)) && !phases.has(file)) phases.set(file, start < ready ? "first step" : "after step 1");
    }
    await context.close();
  }
  // Time to an interactive first step, over fresh contexts (nothing cached).
  for (let i = 0; i < LOADS; i++) {
    const context = await chrome.browser.newContext();
    const page = await context.newPage();
    await watchReady(page);
    await page.goto(`${server.base}/`);
    await page.waitForFunction(() => window.__tlReady !== undefined);
    times.push(await page.evaluate(() => window.__tlReady));
    await context.close();
  }
} finally {
  await chrome.close();
  await server.close();
}

const totals = { "first step": { raw: 0, gz: 0 }, "after step 1": { raw: 0, gz: 0 } };
console.log(`${"file".padEnd(36)} ${"raw".padStart(10)} ${"gzip".padStart(10)}   fetched`);
for (const [file, phase] of phases) {
  const body = await fs.readFile(path.join(DIST, file));
  const gz = zlib.gzipSync(body, { level: 9 }).length;
  totals[phase].raw += body.length;
  totals[phase].gz += gz;
  console.log(`${file.padEnd(36)} ${kib(body.length).padStart(10)} ${kib(gz).padStart(10)}   ${phase === "first step" ? "before the first step" : "after it (the rest of the wizard)"}`);
}
const first = totals["first step"];
const all = { raw: first.raw + totals["after step 1"].raw, gz: first.gz + totals["after step 1"].gz };
const sizeOk = first.gz <= SIZE_BUDGET;
failed ||= !sizeOk;
console.log(`${"first step (budgeted)".padEnd(36)} ${kib(first.raw).padStart(10)} ${kib(first.gz).padStart(10)}   budget ${kib(SIZE_BUDGET)} (150 KB) gzip: ${sizeOk ? "OK" : "OVER"}`);
console.log(`${"whole flow (reference)".padEnd(36)} ${kib(all.raw).padStart(10)} ${kib(all.gz).padStart(10)}   vs ${kib(SIZE_BUDGET)} gzip: ${all.gz <= SIZE_BUDGET ? "within" : "over"}`);

times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)];
const timeOk = median <= TIME_BUDGET_MS;
failed ||= !timeOk;
console.log(`time to interactive first step over ${LOADS} cold loads: median ${median.toFixed(0)} ms ` +
  `(min ${times[0].toFixed(0)}, max ${times.at(-1).toFixed(0)}), budget ${TIME_BUDGET_MS} ms: ${timeOk ? "OK" : "OVER"}`);
process.exit(failed ? 1 : 0);
