// The whole path with the real worker: Trustline's AWS stand-in, `trustline serve`, and the
// example dashboard's own backend (web/examples/dashboard/server.mjs), which alone holds the
// operator token. In Chromium the dashboard gets a session for its tenant from that backend,
// mounts the wizard with it (the quick-create link carries the ExternalId the worker issued),
// the worker verifies the role (assuming it in the stand-in, proving the ExternalId is
// enforced), the dashboard registers it with the session's token, the account is listed and
// the first sync, which the registration started, fills its inventory. No fake is involved,
// and nothing the page received, stored or shows holds the operator token.
//
// Needs the debug binaries `trustline` and `aws-standin` (scripts/test.d/50-web.sh builds them;
// TRUSTLINE_BIN_DIR overrides where they are) and dist/ (scripts/web-build.sh).
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import { DIST, ROOT, launchBrowser, newPage, screenshot } from "./harness.mjs";

const BIN = process.env.TRUSTLINE_BIN_DIR ?? path.join(process.env.CARGO_TARGET_DIR ?? path.join(ROOT, "target"), "debug");
const DASHBOARD = path.join(ROOT, "web/examples/dashboard");
const VENDOR = "arn:aws:iam::111122223333:root";
const VENDOR_KEY = "AKIATRUSTLINETEST001";
const ACCOUNT = "123456789012";
const ROLE = `arn:aws:iam::${ACCOUNT}:role/AcmeReadOnly`;
const OPEN_ROLE = `arn:aws:iam::${ACCOUNT}:role/OpenNoExternalId`;
const TENANT = "acme-corp";
/** The operator's token: the test process and the dashboard's backend only. */
const TOKEN = "operator-token-4f1e9a7c2d-never-in-a-page";
const TEMPLATE_URL = "https://example-bucket.s3.us-east-1.amazonaws.com/role.yaml";

/** Starts a process and resolves with its "listening on URL" line (printed on stderr). */
function startListening(command, args, env) {
  const proc = spawn(command, args, { env, stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  const url = new Promise((resolve, reject) => {
    proc.stderr.on("data", (chunk) => {
      log += chunk;
      // Only a whole line: a chunk can end inside the URL, and `$` matches at the end of `log`.
      const m = log.match(/^listening on (\S+)\r?\n/m);
      if (m) resolve(m[1]);
    });
    proc.once("exit", (code) => reject(new Error(`${path.basename(command)} exited with ${code}: ${log}`)));
  });
  const stop = () => new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    proc.once("exit", resolve);
    proc.kill("SIGTERM");
  });
  return { url, stop, log: () => log };
}

const fx = {};

/** The customer's account in the stand-in: a user with a key, a role someone made by hand
 * without an ExternalId and, once the worker has issued the tenant's ExternalId, the role from
 * the template, which requires it. */
async function startStandin(port, issuedExternalId) {
  const trust = (externalId) => execFileSync(
    path.join(BIN, "trustline"),
    ["policy", "trust", "--vendor", VENDOR, "--external-id", externalId],
    { encoding: "utf8" },
  );
  const openTrust = JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { AWS: VENDOR }, Action: "sts:AssumeRole" }],
  });
  const roles = [{ arn: OPEN_ROLE, trust_policy: openTrust, denied_actions: [], max_session_seconds: 3600 }];
  if (issuedExternalId) {
    roles.push({ arn: ROLE, trust_policy: trust(issuedExternalId), denied_actions: [], max_session_seconds: 3600 });
  }
  const seed = {
    users: [
      { account: "111122223333", name: "trustline-vendor", access_key_id: VENDOR_KEY },
      { account: ACCOUNT, name: "ci-deployer", access_key_id: "AKIACUSTOMERDEPLOY01" },
    ],
    roles,
  };
  const file = path.join(fx.dir, "seed.json");
  await fs.writeFile(file, JSON.stringify(seed));
  const standin = startListening(path.join(BIN, "aws-standin"), ["--seed", file, "--port", String(port)], process.env);
  await standin.url;
  return standin;
}

/** The worker's API as the operator (the test process, like the vendor's backend). */
async function operator(method, pathname, body) {
  const r = await fetch(`${fx.worker}${pathname}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return [r.status, await r.json().catch(() => null)];
}

before(async () => {
  fx.dir = await fs.mkdtemp(path.join(os.tmpdir(), "trustline-e2e-"));
  // The worker needs the stand-in's endpoint to start, and the template's role needs the
  // ExternalId the worker issues: the stand-in starts without that role and starts again on
  // the same port with it (it has no runtime API to add one).
  fx.standin = await startStandin(0, null);
  const aws = await fx.standin.url;
  fx.store = path.join(fx.dir, "trustline.db");
  const env = {
    ...process.env,
    TRUSTLINE_API_TOKEN: TOKEN,
    AWS_ACCESS_KEY_ID: VENDOR_KEY,
    AWS_SECRET_ACCESS_KEY: "vendor-test-secret",
    AWS_CONFIG_FILE: "/dev/null",
    AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
    AWS_EC2_METADATA_DISABLED: "true",
  };
  delete env.AWS_PROFILE;
  fx.workerProc = startListening(
    path.join(BIN, "trustline"),
    ["serve", "--listen", "127.0.0.1:0", "--store", fx.store, "--endpoint-url", aws, "--vendor-principal", VENDOR],
    env,
  );
  fx.worker = await fx.workerProc.url;

  const [created, tenant] = await operator("POST", "/v1/tenants", { id: TENANT, name: "Acme Corp" });
  assert.equal(created, 201, JSON.stringify(tenant));
  const [status, issued] = await operator("GET", `/v1/tenants/${TENANT}/external-id`);
  assert.equal(status, 200, JSON.stringify(issued));
  fx.externalId = issued.external_id;
  await fx.standin.stop();
  fx.standin = await startStandin(Number(new URL(aws).port), fx.externalId);

  // The dashboard's backend: the operator token in its environment only.
  const dashboardEnv = { ...process.env, TRUSTLINE_API_TOKEN: TOKEN, TRUSTLINE_WORKER_URL: fx.worker, TRUSTLINE_DEMO_TENANT: TENANT };
  dashboardEnv.TRUSTLINE_DASHBOARD_CONFIG = JSON.stringify({ vendorName: "Acme", templateUrl: TEMPLATE_URL });
  fx.dashboardProc = startListening(process.execPath, [path.join(DASHBOARD, "server.mjs"), "--port", "0", "--dist", DIST], dashboardEnv);
  fx.base = await fx.dashboardProc.url;
  fx.chrome = await launchBrowser();
});

after(async () => {
  await fx.chrome?.close();
  await fx.dashboardProc?.stop();
  await fx.workerProc?.stop();
  await fx.standin?.stop();
  if (fx.dir) await fs.rm(fx.dir, { recursive: true, force: true });
});

/** The dashboard in a fresh context, keeping every request header and response body it got. */
async function openDashboard() {
  const p = await newPage(fx.chrome.browser);
  p.received = [];
  p.sent = [];
  p.page.on("request", (r) => p.sent.push(JSON.stringify({ url: r.url(), headers: r.headers(), body: r.postData() })));
  p.page.on("response", async (r) => {
    const body = await r.body().catch(() => Buffer.alloc(0));
    p.received.push({ url: r.url(), body: body.toString("latin1") });
  });
  await p.page.goto(`${fx.base}/dashboard/`);
  await p.page.waitForFunction(() => document.querySelector("#connect-aws") && !document.querySelector("#connect-aws").disabled);
  await p.page.waitForSelector("#accounts li");
  return p;
}

/** From the dashboard's button to the access step. */
async function toAccess(page) {
  await page.click("#connect-aws");
  await page.waitForSelector("#connect-panel .tl-wizard");
  await page.click("#tl-kind-cross-account-role");
  await page.click("#tl-next");
  await page.waitForSelector("#tl-external-id");
}

/** From the access step to the verify result for `roleArn`. */
async function verifyRole(page, roleArn) {
  await page.click("#tl-next");
  await page.fill("#tl-role-arn", roleArn);
  await page.click("#tl-verify");
  await page.waitForSelector(".tl-checks");
}

/** Where the operator token could have reached the page. */
async function operatorTokenLeaks(p) {
  const leaks = [];
  for (const r of p.received) if (r.body.includes(TOKEN)) leaks.push(`response body of ${r.url}`);
  for (const s of p.sent) if (s.includes(TOKEN)) leaks.push(`request ${s.slice(0, 120)}`);
  const inPage = await p.page.evaluate((token) => ({
    dom: document.documentElement.outerHTML.includes(token),
    attributes: [...document.querySelectorAll("*")].some((el) => [...el.attributes].some((a) => a.value.includes(token))),
    localStorage: JSON.stringify(localStorage).includes(token),
    sessionStorage: JSON.stringify(sessionStorage).includes(token),
    cookie: document.cookie.includes(token),
    url: location.href.includes(token),
  }), TOKEN);
  for (const [where, found] of Object.entries(inPage)) if (found) leaks.push(where);
  return leaks;
}

async function filesHolding(dir, needle) {
  const found = [];
  for (const entry of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath ?? entry.path, entry.name);
    if ((await fs.readFile(file)).includes(needle)) found.push(file);
  }
  return found;
}

describe("dashboard + its backend + wizard + the real worker", () => {
  test("a role with no ExternalId condition is reported unsafe by the worker and cannot be finished", async () => {
    const p = await openDashboard();
    const { page, problems, context } = p;
    await toAccess(page);
    await verifyRole(page, OPEN_ROLE);
    await page.waitForSelector(".tl-checks:not(.tl-ok)");
    const text = await page.textContent("#connect-panel");
    assert.match(text, /without (an|any|your) ExternalId/i, text);
    await screenshot(page, "worker-unsafe-role");
    await page.click("#tl-next");
    assert.equal(await page.getAttribute(".tl-wizard", "data-step"), "connect", "an unsafe role cannot be finished");
    await page.click("#tl-cancel");
    const [, list] = await operator("GET", `/v1/tenants/${TENANT}/connections`);
    assert.deepEqual(list.connections, [], "nothing registered");
    assert.deepEqual(await operatorTokenLeaks(p), []);
    assert.deepEqual(problems, []);
    await context.close();
  });

  test("session from the backend → the worker's ExternalId → verify → register → listed → the first sync fills the inventory", async () => {
    const p = await openDashboard();
    const { page, problems, context } = p;
    assert.match(await page.textContent("#accounts"), /None yet/);
    await toAccess(page);
    // The ExternalId the worker issued to the tenant, in the Launch-stack link and on the page.
    assert.equal(await page.textContent("#tl-external-id"), fx.externalId);
    const launch = new URL(await page.getAttribute("#tl-launch", "href"));
    const params = new URLSearchParams(launch.hash.split("?")[1]);
    assert.equal(params.get("templateURL"), TEMPLATE_URL);
    assert.equal(params.get("param_ExternalId"), fx.externalId);
    await screenshot(page, "worker-access");
    await verifyRole(page, ROLE);
    await page.waitForSelector(".tl-checks.tl-ok");
    // The worker's own checks, not a stand-in's: the ExternalId is proven to be enforced.
    const checks = await page.$$eval(".tl-checks li", (lis) => lis.map((li) => li.textContent));
    assert.ok(checks.some((c) => /ExternalId/.test(c)), checks.join("\n"));
    await screenshot(page, "worker-verified");
    await page.click("#tl-next");
    await page.waitForFunction(() => /resources inventoried|first sync/.test(document.getElementById("backend-status").textContent), null, { timeout: 60_000 });
    assert.match(await page.textContent("#backend-status"), /resources inventoried/);
    await screenshot(page, "worker-registered-and-synced");

    // The worker agrees: the connection is the tenant's, its first sync is ok, and the
    // inventory holds what the stand-in's account has.
    const [status, list] = await operator("GET", `/v1/tenants/${TENANT}/connections`);
    assert.equal(status, 200);
    assert.equal(list.connections.length, 1, JSON.stringify(list));
    const [connection] = list.connections;
    assert.deepEqual([connection.role_arn, connection.account_id], [ROLE, ACCOUNT]);
    assert.ok(!("external_id" in connection) || connection.external_id === fx.externalId);
    assert.match(await page.textContent(`#accounts [data-connection="${connection.id}"]`), new RegExp(`^${ACCOUNT} — .*\\(cross-account-role, active\\)`));
    const [, sync] = await operator("GET", `/v1/tenants/${TENANT}/connections/${connection.id}/sync`);
    assert.equal(sync.last.status, "ok", JSON.stringify(sync));
    const inventory = execFileSync(
      path.join(BIN, "trustline"),
      ["inventory", "--store", fx.store, "--connection", connection.id, "--format", "json"],
      { encoding: "utf8" },
    );
    const kinds = JSON.parse(inventory).map((r) => `${r.kind} ${r.id}`);
    for (const expected of ["iam-role AcmeReadOnly", "iam-role OpenNoExternalId", "iam-user ci-deployer", "iam-access-key AKIACUSTOMERDEPLOY01"]) {
      assert.ok(kinds.includes(expected), `${expected} not in ${kinds.join(", ")}`);
    }
    assert.equal(sync.last.resources, kinds.length);
    const events = await page.$$eval("#events li", (lis) => lis.map((li) => li.textContent));
    assert.deepEqual(events.slice(-2), [`registered ${connection.id}`, `synced ${connection.id}: ok, ${kinds.length} resources`]);

    // What the page shows after "Connected", through the read API with the session: the
    // posture the first sync re-verified, the inventory's counts and a filterable table, and
    // the changes that sync recorded.
    assert.match(await page.textContent(`#accounts [data-connection="${connection.id}"] .posture`), /^healthy$/);
    await page.click(`#accounts [data-connection="${connection.id}"] .show-detail`);
    await page.waitForSelector("#connection-detail:not([hidden]) #posture");
    assert.match(await page.textContent("#posture"), /healthy/);
    const counts = await page.$$eval("#inventory-counts tbody tr", (rows) => rows.map((r) => r.textContent));
    assert.ok(counts.some((row) => /^iam-roleglobal\d+$/.test(row)), counts.join(" | "));
    assert.match(await page.textContent("#inventory-counts h3"), new RegExp(`${kinds.length} resources`));
    await page.fill('#inventory-browser input[name="kind"]', "iam-user");
    await page.click("#inventory-browser button:not([type])");
    await page.waitForFunction(() => [...document.querySelectorAll("#inventory-browser tbody tr")].every((r) => r.cells[0].textContent === "iam-user"));
    assert.match(await page.textContent("#inventory-browser tbody"), /ci-deployer/);
    await page.fill('#inventory-browser input[name="kind"]', "iam-usr");
    await page.click("#inventory-browser button:not([type])");
    await page.waitForFunction(() => /^kind: /.test(document.querySelector("#inventory-browser .error").textContent));
    const changes = await page.$$eval("#recent-changes tbody tr", (rows) => rows.map((r) => r.cells[1].textContent));
    assert.ok(changes.length > 0 && changes.every((c) => c === "added"), changes.join(","));
    await screenshot(page, "dashboard-connection-detail");

    // The session is this tenant's only: another tenant's routes are refused (through the
    // dashboard's proxy, which adds nothing).
    const [, other] = await operator("POST", "/v1/tenants", { id: "other-corp", name: "Other Corp" });
    assert.ok(other);
    const refused = await page.evaluate(async () => {
      const { token } = await (await fetch("/api/session", { method: "POST" })).json();
      const r = await fetch("/v1/tenants/other-corp/connections", { headers: { authorization: `Bearer ${token}` } });
      return r.status;
    });
    assert.equal(refused, 403);

    // Registering the same account again is refused; the dashboard shows the API's error, field first.
    await toAccess(page);
    await verifyRole(page, ROLE);
    await page.waitForSelector(".tl-checks.tl-ok");
    await page.click("#tl-next");
    await page.waitForSelector("#backend-status.error");
    assert.match(await page.textContent("#backend-status"), /Could not register the account: \w+: /);
    await screenshot(page, "worker-registered-twice");

    assert.deepEqual(await operatorTokenLeaks(p), []);
    assert.deepEqual(problems.filter((msg) => !/\b(403|409|422)\b/.test(msg)), []);
    await context.close();
  });

  test("the operator token is in no file the pages are served from", async () => {
    assert.deepEqual(await filesHolding(DIST, TOKEN), []);
    assert.deepEqual(await filesHolding(DASHBOARD, TOKEN), []);
    // Nor any credential-shaped setting: the pages' configs carry none at all.
    const config = (html, id) => html.match(new RegExp(`<script type="application/json" id="${id}">([\\s\\S]*?)</script>`))[1];
    const served = await (await fetch(`${fx.base}/dashboard/`)).text();
    const standalone = await fs.readFile(path.join(DIST, "index.html"), "utf8");
    for (const json of [config(served, "dashboard-config"), config(standalone, "trustline-config")]) {
      // No such keys (sessionFrom, a URL to ask for a session at load time, is fine).
      assert.doesNotMatch(json, /"(token|authorization|headers|session|verify)"\s*:/i, json);
      assert.ok(!json.includes(TOKEN), json);
    }
  });
});
