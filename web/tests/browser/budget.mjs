// Measures the wizard's budgets on the release build in ./dist (issue 5):
//   1. wasm + JS + CSS transferred, gzip -9: at most 150 KiB (raw and gzip printed per file);
//   2. time from navigation to an interactive first step (the kind cards rendered, with their
//      handlers attached by Yew), headless Chromium on localhost: median of several cold loads
//      at most 500 ms.
// Exits 1 when a budget is exceeded.
import fs from "node:fs/promises";
import path from "node:path";
import zlib from "node:zlib";

import { DIST, launchBrowser, startServer } from "./harness.mjs";

const SIZE_BUDGET = 150 * 1024;
const TIME_BUDGET_MS = 500;
const LOADS = Number(process.env.LOADS ?? 9);

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
let failed = false;

const files = ["trustline-web_bg.wasm", "trustline-web.js", "boot.js", "style.css"];
let raw = 0;
let gz = 0;
console.log("file                       raw        gzip");
for (const f of files) {
  const body = await fs.readFile(path.join(DIST, f));
  const g = zlib.gzipSync(body, { level: 9 }).length;
  raw += body.length;
  gz += g;
  console.log(`${f.padEnd(24)} ${kib(body.length).padStart(10)} ${kib(g).padStart(10)}`);
}
const sizeOk = gz <= SIZE_BUDGET;
failed ||= !sizeOk;
console.log(`${"total".padEnd(24)} ${kib(raw).padStart(10)} ${kib(gz).padStart(10)}   budget ${kib(SIZE_BUDGET)} gzip: ${sizeOk ? "OK" : "OVER"}`);

const server = await startServer();
const chrome = await launchBrowser();
const times = [];
try {
  for (let i = 0; i < LOADS; i++) {
    // A fresh context per load: nothing cached, the wasm is fetched and compiled every time.
    const context = await chrome.browser.newContext();
    const page = await context.newPage();
    await page.addInitScript(() => {
      const ready = () => {
        const card = document.getElementById("tl-kind-cross-account-role");
        if (card && !window.__tlReady) window.__tlReady = performance.now();
        return Boolean(card);
      };
      new MutationObserver((_, obs) => ready() && obs.disconnect()).observe(document, { childList: true, subtree: true });
    });
    await page.goto(`${server.base}/`);
    await page.waitForFunction(() => window.__tlReady !== undefined);
    times.push(await page.evaluate(() => window.__tlReady));
    await context.close();
  }
} finally {
  await chrome.close();
  await server.close();
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)];
const timeOk = median <= TIME_BUDGET_MS;
failed ||= !timeOk;
console.log(`time to interactive first step over ${LOADS} cold loads: median ${median.toFixed(0)} ms ` +
  `(min ${times[0].toFixed(0)}, max ${times.at(-1).toFixed(0)}), budget ${TIME_BUDGET_MS} ms: ${timeOk ? "OK" : "OVER"}`);
process.exit(failed ? 1 : 0);
