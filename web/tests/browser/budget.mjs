// Measures the wizard's budgets on the release build in ./dist (scripts/web-budget.sh), in headless Chromium:
//   1. first paint: the page's HTML (with the static first step) and its CSS, gzip -9, at most 20 KB
//      (20,000 bytes): all the browser needs to show a usable first step.
//   2. whole flow: every wasm, JS and CSS file in dist/ (everything the page can fetch), gzip -9,
//      at most 320 KiB; the files a load through to the access step fetched are marked.
//   3. time from navigation to the first step painted and clickable (first contentful paint and
//      web/boot.js's click handling in place, i.e. DOMContentLoaded, whichever is later): median
//      of cold loads, at most 150 ms.
//   4. time from navigation to the scope step ready (the wizard mounted with the kind chosen as
//      soon as the first step was clickable): median of the same loads, at most 600 ms.
// Exits 1 when a size budget is exceeded, 3 when only a timing budget is.
import fs from "node:fs/promises";
import path from "node:path";
import zlib from "node:zlib";

import { DIST, launchBrowser, startServer } from "./harness.mjs";

const FIRST_PAINT_BUDGET = 20_000;
const WHOLE_FLOW_BUDGET = 320 * 1024;
const CLICKABLE_BUDGET_MS = 150;
const SCOPE_BUDGET_MS = 600;
const LOADS = Number(process.env.LOADS ?? 9);
const COUNTED = new Set([".wasm", ".js", ".css"]);

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
const gzip = (body) => zlib.gzipSync(body, { level: 9 }).length;
// Sizes are exact; the timings are medians of page loads on whatever else the machine is doing.
let sizeOver = false;
let timeOver = false;
const verdict = (ok) => {
  sizeOver ||= !ok;
  return ok ? "OK" : "OVER";
};
const timedVerdict = (ok) => {
  timeOver ||= !ok;
  return ok ? "OK" : "OVER";
};

/** Sets window.__tlScope when the scope step of the mounted wizard is in the page. */
async function watchScope(page) {
  await page.addInitScript(() => {
    new MutationObserver((_, obs) => {
      if (document.querySelector('.tl-wizard[data-step="scope"]:not([data-tl-static]) #tl-regions')) {
        window.__tlScope = performance.now();
        obs.disconnect();
      }
    }).observe(document, { childList: true, subtree: true });
  });
}

const server = await startServer();
const chrome = await launchBrowser();
const clickable = [];
const scope = [];
const fetched = new Set();
let page0 = "";
try {
  // Sizes: one cold load through to the access step, for the list of files fetched, and the
  // page's HTML as served.
  {
    const context = await chrome.browser.newContext();
    const page = await context.newPage();
    const response = await page.goto(`${server.base}/`);
    page0 = await response.text();
    await page.click("#tl-kind-cross-account-role");
    await page.waitForSelector("#tl-regions");
    await page.click("#tl-next");
    await page.waitForSelector("#tl-doc-trust-policy");
    const resources = await page.evaluate(() => performance.getEntriesByType("resource").map((e) => e.name));
    for (const url of resources) fetched.add(new URL(url).pathname.slice(1));
    await context.close();
  }
  // Times, over fresh contexts (nothing cached): the customer clicks the recommended card as
  // soon as it can be clicked.
  for (let i = 0; i < LOADS; i++) {
    const context = await chrome.browser.newContext();
    const page = await context.newPage();
    await watchScope(page);
    await page.goto(`${server.base}/`, { waitUntil: "domcontentloaded" });
    await page.click("#tl-kind-cross-account-role");
    await page.waitForFunction(() => window.__tlScope !== undefined);
    const t = await page.evaluate(() => {
      const fcp = performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? Infinity;
      const nav = performance.getEntriesByType("navigation")[0];
      return { ready: Math.max(fcp, nav.domContentLoadedEventEnd), scope: window.__tlScope };
    });
    clickable.push(t.ready);
    scope.push(t.scope);
    await context.close();
  }
} finally {
  await chrome.close();
  await server.close();
}

console.log(`${"file".padEnd(28)} ${"raw".padStart(10)} ${"gzip -9".padStart(10)}`);
const html = gzip(Buffer.from(page0));
const css = gzip(await fs.readFile(path.join(DIST, "style.css")));
console.log(`${"index.html (as served)".padEnd(28)} ${kib(page0.length).padStart(10)} ${kib(html).padStart(10)}   first paint`);
let whole = 0;
for (const file of (await fs.readdir(DIST)).sort()) {
  if (!COUNTED.has(path.extname(file))) continue;
  const body = await fs.readFile(path.join(DIST, file));
  const gz = gzip(body);
  whole += gz;
  const note = [file === "style.css" ? "first paint" : "", fetched.has(file) ? "fetched" : "not fetched by the wizard"].filter(Boolean).join(", ");
  console.log(`${file.padEnd(28)} ${kib(body.length).padStart(10)} ${kib(gz).padStart(10)}   ${note}`);
}
console.log(`first paint (HTML + CSS): ${html + css} B gzip, budget ${FIRST_PAINT_BUDGET} B (20 KB): ${verdict(html + css <= FIRST_PAINT_BUDGET)}`);
console.log(`whole flow (every wasm, JS, CSS): ${kib(whole)} gzip, budget ${kib(WHOLE_FLOW_BUDGET)}: ${verdict(whole <= WHOLE_FLOW_BUDGET)}`);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const range = (xs) => `min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)}`;
console.log(`first step painted and clickable, ${LOADS} cold loads: median ${median(clickable).toFixed(0)} ms (${range(clickable)}), budget ${CLICKABLE_BUDGET_MS} ms: ${timedVerdict(median(clickable) <= CLICKABLE_BUDGET_MS)}`);
console.log(`scope step ready, ${LOADS} cold loads: median ${median(scope).toFixed(0)} ms (${range(scope)}), budget ${SCOPE_BUDGET_MS} ms: ${timedVerdict(median(scope) <= SCOPE_BUDGET_MS)}`);
// 1: a size is over; 3: only a timing is.
process.exit(sizeOver ? 1 : timeOver ? 3 : 0);
