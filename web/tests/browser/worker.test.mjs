// The whole path with the real worker (issue 6): the example dashboard, served by
// `trustline serve --static-dir`, mounts the wizard; the customer verifies a role against the
// worker's verify API (which assumes it in Trustline's AWS stand-in, proving the ExternalId is
// enforced); the dashboard registers the connection, the account appears in the worker's list,
// and the sync the dashboard triggers fills its inventory. No fake verify API is involved.
//
// Needs the debug binaries `trustline` and `aws-standin` (scripts/test.d/50-web.sh builds them;
// TRUSTLINE_BIN_DIR overrides where they are).
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import { DIST, ROOT, launchBrowser, newPage, screenshot } from "./harness.mjs";

const BIN = process.env.TRUSTLINE_BIN_DIR ?? path.join(process.env.CARGO_TARGET_DIR ?? path.join(ROOT, "target"), "debug");
const VENDOR = "arn:aws:iam::111122223333:root";
const VENDOR_KEY = "AKIATRUSTLINETEST001";
const ACCOUNT = "123456789012";
const ROLE = `arn:aws:iam::${ACCOUNT}:role/AcmeReadOnly`;
const OPEN_ROLE = `arn:aws:iam::${ACCOUNT}:role/OpenNoExternalId`;
const EXTERNAL_ID = "acme:tenant-7:Wc2bTq9xLr5vYk3mNp8sDf4h";
const TOKEN = "browser-test-token-4f1e9a7c2d";

/** Starts `bin args…` and resolves with its "listening on URL" line (printed on stderr). */
function startListening(bin, args, env) {
  const proc = spawn(path.join(BIN, bin), args, { env, stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  const url = new Promise((resolve, reject) => {
    proc.stderr.on("data", (chunk) => {
      log += chunk;
      // Only a whole line: a chunk can end inside the URL, and `$` matches at the end of `log`.
      const m = log.match(/^listening on (\S+)\r?\n/m);
      if (m) resolve(m[1]);
    });
    proc.once("exit", (code) => reject(new Error(`${bin} exited with ${code}: ${log}`)));
  });
  const stop = () => new Promise((resolve) => {
    if (proc.exitCode !== null) return resolve();
    proc.once("exit", resolve);
    proc.kill("SIGTERM");
  });
  return { url, stop, log: () => log };
}

const fx = {};

before(async () => {
  fx.dir = await fs.mkdtemp(path.join(os.tmpdir(), "trustline-e2e-"));
  const trustline = path.join(BIN, "trustline");
  const trust = (externalId) => {
    const args = ["policy", "trust", "--vendor", VENDOR];
    if (externalId) args.push("--external-id", externalId);
    return execFileSync(trustline, args, { encoding: "utf8" });
  };
  // The customer's account in the stand-in: the role from the template (it requires this
  // customer's ExternalId), a role someone made by hand without one, and a user with a key.
  const openTrust = JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { AWS: VENDOR }, Action: "sts:AssumeRole" }],
  });
  const seed = {
    users: [
      { account: "111122223333", name: "trustline-vendor", access_key_id: VENDOR_KEY },
      { account: ACCOUNT, name: "ci-deployer", access_key_id: "AKIACUSTOMERDEPLOY01" },
    ],
    roles: [
      { arn: ROLE, trust_policy: trust(EXTERNAL_ID), denied_actions: [], max_session_seconds: 3600 },
      { arn: OPEN_ROLE, trust_policy: openTrust, denied_actions: [], max_session_seconds: 3600 },
    ],
  };
  await fs.writeFile(path.join(fx.dir, "seed.json"), JSON.stringify(seed));
  fx.standin = startListening("aws-standin", ["--seed", path.join(fx.dir, "seed.json")], process.env);
  const aws = await fx.standin.url;

  // The site the worker serves: the Trunk build, and the dashboard example at /dashboard/ with
  // the worker's own API as its backend (same origin).
  const site = path.join(fx.dir, "site");
  await fs.cp(DIST, site, { recursive: true });
  await fs.cp(path.join(ROOT, "web/examples/dashboard"), path.join(site, "dashboard"), { recursive: true });
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
  fx.worker = startListening(
    "trustline",
    ["serve", "--listen", "127.0.0.1:0", "--static-dir", site, "--store", fx.store, "--endpoint-url", aws],
    env,
  );
  fx.base = await fx.worker.url;
  const auth = { Authorization: `Bearer ${TOKEN}` };
  const config = {
    vendorPrincipal: VENDOR,
    vendorName: "Acme",
    templateUrl: "https://acme-onboarding.s3.us-east-1.amazonaws.com/trustline/role.yaml",
    externalId: EXTERNAL_ID,
    defaultRegions: ["eu-west-1"],
    verify: { url: fx.base, headers: auth },
    backend: { url: fx.base, headers: auth },
  };
  const index = path.join(site, "dashboard/index.html");
  const html = await fs.readFile(index, "utf8");
  await fs.writeFile(index, html.replace(
    /(<script type="application\/json" id="dashboard-config">)[\s\S]*?(<\/script>)/,
    (_, open, close) => `${open}${JSON.stringify(config)}${close}`,
  ));
  fx.chrome = await launchBrowser();
});

after(async () => {
  await fx.chrome?.close();
  await fx.worker?.stop();
  await fx.standin?.stop();
  if (fx.dir) await fs.rm(fx.dir, { recursive: true, force: true });
});

async function api(method, pathname) {
  const r = await fetch(`${fx.base}${pathname}`, { method, headers: { Authorization: `Bearer ${TOKEN}` } });
  return [r.status, await r.json()];
}

async function openDashboard() {
  const p = await newPage(fx.chrome.browser);
  await p.page.goto(`${fx.base}/dashboard/`);
  await p.page.waitForFunction(() => document.querySelector("#connect-aws") && !document.querySelector("#connect-aws").disabled);
  await p.page.waitForSelector("#accounts li");
  return p;
}

/** From the dashboard's button to the verify result for `roleArn`. */
async function verifyRole(page, roleArn) {
  await page.click("#connect-aws");
  await page.waitForSelector("#connect-panel .tl-wizard");
  await page.click("#tl-kind-cross-account-role");
  await page.click("#tl-next");
  await page.click("#tl-next");
  await page.fill("#tl-role-arn", roleArn);
  await page.click("#tl-verify");
  await page.waitForSelector(".tl-checks");
}

describe("dashboard + wizard + the real worker", () => {
  test("a role with no ExternalId condition is reported unsafe by the worker and cannot be finished", async () => {
    const { page, problems, context } = await openDashboard();
    await verifyRole(page, OPEN_ROLE);
    await page.waitForSelector(".tl-checks:not(.tl-ok)");
    const text = await page.textContent("#connect-panel");
    assert.match(text, /without (an|any) ExternalId/i, text);
    await screenshot(page, "worker-unsafe-role");
    await page.click("#tl-next");
    assert.equal(await page.getAttribute(".tl-wizard", "data-step"), "connect", "an unsafe role cannot be finished");
    await page.click("#tl-cancel");
    const [, list] = await api("GET", "/v1/connections");
    assert.deepEqual(list.connections, [], "nothing registered");
    assert.deepEqual(problems, []);
    await context.close();
  });

  test("verify → register → listed by the worker → the triggered sync fills the inventory", async () => {
    const { page, problems, context } = await openDashboard();
    assert.match(await page.textContent("#accounts"), /None yet/);
    await verifyRole(page, ROLE);
    await page.waitForSelector(".tl-checks.tl-ok");
    // The worker's own checks, not a stand-in's: the ExternalId is proven to be enforced.
    const checks = await page.$$eval(".tl-checks li", (lis) => lis.map((li) => li.textContent));
    assert.ok(checks.some((c) => /ExternalId/.test(c)), checks.join("\n"));
    await screenshot(page, "worker-verified");
    await page.click("#tl-next");
    await page.waitForFunction(() => /resources inventoried/.test(document.getElementById("backend-status").textContent), null, { timeout: 30_000 });
    assert.match(await page.textContent("#accounts"), new RegExp(`${ACCOUNT} — aws-${ACCOUNT} \\(cross-account-role, active\\)`));
    await screenshot(page, "worker-registered-and-synced");

    // The worker agrees: the connection is listed, its last sync is ok, and the inventory holds
    // what the stand-in's account has.
    const [status, list] = await api("GET", "/v1/connections");
    assert.equal(status, 200);
    assert.deepEqual(list.connections.map((c) => [c.id, c.role_arn, c.account_id]), [[`aws-${ACCOUNT}`, ROLE, ACCOUNT]]);
    const [, sync] = await api("GET", `/v1/connections/aws-${ACCOUNT}/sync`);
    assert.equal(sync.last.status, "ok", JSON.stringify(sync));
    const inventory = execFileSync(
      path.join(BIN, "trustline"),
      ["inventory", "--store", fx.store, "--connection", `aws-${ACCOUNT}`, "--format", "json"],
      { encoding: "utf8" },
    );
    const kinds = JSON.parse(inventory).map((r) => `${r.kind} ${r.id}`);
    for (const expected of ["iam-role AcmeReadOnly", "iam-role OpenNoExternalId", "iam-user ci-deployer", "iam-access-key AKIACUSTOMERDEPLOY01"]) {
      assert.ok(kinds.includes(expected), `${expected} not in ${kinds.join(", ")}`);
    }
    assert.equal(sync.last.resources, kinds.length);
    const events = await page.$$eval("#events li", (lis) => lis.map((li) => li.textContent));
    assert.deepEqual(events.slice(-2), [`registered aws-${ACCOUNT}`, `synced aws-${ACCOUNT}: ok, ${kinds.length} resources`]);

    // Registering the same account again is refused with the field named, and shown as such.
    await verifyRole(page, ROLE);
    await page.waitForSelector(".tl-checks.tl-ok");
    await page.click("#tl-next");
    await page.waitForSelector("#backend-status.error");
    assert.match(await page.textContent("#backend-status"), /id: a connection 'aws-123456789012' already exists/);
    assert.deepEqual(problems.filter((p) => !/409/.test(p)), []);
    await context.close();
  });
});
