// Test support for the wizard's browser tests: a static server for the Trunk build (with a
// FAKE session endpoint, a FAKE verify API and a FAKE STS root-key answer, all clearly
// labelled), Chromium through
// playwright-core, and moto on a free loopback port. Everything starts on free ports and is
// stopped by the tests.
import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import http from "node:http";
import { createRequire } from "node:module";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before } from "node:test";

// playwright-core lives in $TRUSTLINE_NODE (scripts/setup.d/50-web.sh), not in the repository.
const NODE_TOOLS = process.env.TRUSTLINE_NODE ?? path.join(os.homedir(), ".cache/trustline/node");
const { chromium } = createRequire(path.join(NODE_TOOLS, "package.json"))("playwright-core");

export const ROOT = path.resolve(import.meta.dirname, "../../..");
export const DIST = path.join(ROOT, "dist");
export const ARTIFACTS = path.join(ROOT, "target/web-artifacts");
const DASHBOARD = path.join(ROOT, "web/examples/dashboard");

export const VENDOR = "arn:aws:iam::111122223333:root";
/** The ExternalId the FAKE worker "issued" to TENANT. */
export const EXTERNAL_ID = "acme:tenant-42:7h3x4mpl3xt3rn4l1d";
export const TENANT = "acme-corp";
/** The FAKE session's bearer token: the only credential a page may hold. */
export const SESSION_TOKEN = "tl_session_fAk3br0ws3rs3ss10n7k";

/** A FAKE session for TENANT, shaped like the worker's `POST /v1/tenants/{tenant}/sessions`. */
export function fakeSession() {
  return {
    token: SESSION_TOKEN,
    tenant: TENANT,
    expires_at: "2026-12-05T01:00:00Z",
    external_id: EXTERNAL_ID,
    vendor_principal: VENDOR,
  };
}

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".mjs": "text/javascript",
  ".wasm": "application/wasm",
  ".css": "text/css",
  ".ts": "text/plain",
  ".json": "application/json",
};

export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Options the standalone page gets unless a test changes them: `sessionFrom` (web/boot.js)
 * gets the FAKE session from this server, so no token is in the page's HTML. */
export function defaultConfig(base) {
  return {
    vendorPrincipal: VENDOR,
    vendorName: "Acme",
    templateUrl: "https://acme-onboarding.s3.us-east-1.amazonaws.com/trustline/role.yaml",
    orgTemplateUrl: "https://acme-onboarding.s3.us-east-1.amazonaws.com/trustline/org.yaml",
    sessionFrom: { endpoint: "/session", url: `${base}/api` },
  };
}

/** The `session` option for mount() with the FAKE session (the dashboard tests). */
export function sessionOption(base) {
  return { url: `${base}/api`, tenant: TENANT, token: SESSION_TOKEN, externalId: EXTERNAL_ID };
}

const pass = (id, title) => ({ id, title, status: "pass", message: `${title}: passed.` });

/**
 * FAKE worker routes for browser tests only (verify, and registration for the dashboard) —
 * contract-shaped like the worker's tenant routes (`/v1/tenants/{tenant}/…` with the session's
 * bearer token; 401 without it, 403 for another tenant), but NOT the worker's implementation. Role names containing "Unsafe" or "Broken" select the unsafe and
 * failed answers.
 */
export function fakeWorker(method, pathname, body, headers, state) {
  const route = pathname.match(/^\/api\/v1\/tenants\/([^/]+)\/(.+)$/);
  if (!route) return [404, { error: { field: null, message: "no such route (fake worker)" } }];
  if (headers.authorization !== `Bearer ${SESSION_TOKEN}`) {
    return [401, { error: { field: null, message: "no valid session (fake worker)" } }];
  }
  if (decodeURIComponent(route[1]) !== TENANT) {
    return [403, { error: { field: null, message: "the session is for another tenant (fake worker)" } }];
  }
  const rest = route[2];
  if (method === "POST" && (rest === "verify/role" || rest === "verify/keys")) return fakeVerify(rest, body);
  // FAKE registration for the dashboard example: lists what was registered, syncs instantly.
  if (method === "POST" && rest === "connections") {
    const account = body.role_arn?.split(":")[4] ?? "123456789012";
    const connection = { id: `c-fake${state.connections.length + 1}`, name: `aws-${account}`, kind: body.kind,
      account_id: account, role_arn: body.role_arn ?? null, status: "active", first_sync: "started" };
    state.connections.push(connection);
    return [201, connection];
  }
  if (method === "GET" && rest === "connections") return [200, { connections: state.connections }];
  if (method === "GET" && /^connections\/[^/]+\/sync$/.test(rest)) {
    return [200, { running: false, last: { status: "ok", resources: 3, error: null } }];
  }
  return [404, { error: { field: null, message: "no such route (fake worker)" } }];
}

function fakeVerify(what, body) {
  if (what === "verify/role") {
    if (!body.role_arn || !Array.isArray(body.data_sets)) {
      return [400, { error: { field: "role_arn", message: "missing field (fake verify)" } }];
    }
    if (body.external_id !== undefined && body.external_id !== EXTERNAL_ID) {
      return [422, { error: { field: "external_id", message: "not the ExternalId issued to this tenant (fake verify)" } }];
    }
    const account = body.role_arn.split(":")[4];
    if (body.role_arn.includes("Unsafe")) {
      return [200, { verdict: "unsafe", account_id: account, checks: [
        pass("assume_role", "Trustline can assume the role with your ExternalId"),
        { id: "external_id_required_missing", title: "The role refuses callers without an ExternalId", status: "fail",
          message: "The role can be assumed without any ExternalId. Delete it and recreate it from the template." },
      ] }];
    }
    if (body.role_arn.includes("Broken")) {
      return [200, { verdict: "failed", account_id: account, checks: [
        { id: "assume_role", title: "Trustline can assume the role with your ExternalId", status: "fail", aws_error_code: "AccessDenied",
          message: "AWS refused AssumeRole: check that the stack finished and that its trust policy names the vendor's account." },
        { id: "caller_identity", title: "The role belongs to the expected account", status: "skipped", message: "" },
      ] }];
    }
    return [200, { verdict: "verified", account_id: account, checks: [
      pass("assume_role", "Trustline can assume the role with your ExternalId"),
      pass("external_id_required_missing", "The role refuses callers without an ExternalId"),
      pass("external_id_required_wrong", "The role refuses a wrong ExternalId"),
      pass("caller_identity", "The role belongs to the expected account"),
      pass("permission:iam:ListUsers", "iam:ListUsers is allowed"),
      pass("session_duration", "Sessions may last an hour"),
    ] }];
  }
  {
    if (!body.access_key_id || !body.secret_access_key) {
      return [400, { error: { field: "access_key_id", message: "missing key (fake verify)" } }];
    }
    const checks = [pass("caller_identity", "The key works"), pass("root_account", "The key is not a root key")];
    if (body.kind === "sts") checks.push(pass("assume_role", "The key can assume the role"));
    return [200, { verdict: "verified", account_id: "123456789012", checks }];
  }
}

/** FAKE STS for the root-key warning only (moto never answers with a root ARN). */
const FAKE_ROOT_STS = `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
<GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:root</Arn><UserId>123456789012</UserId>
<Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>fake</RequestId>
</ResponseMetadata></GetCallerIdentityResponse>`;

function replaceJson(html, id, value) {
  const re = new RegExp(`(<script type="application/json" id="${id}">)[\\s\\S]*?(</script>)`);
  return html.replace(re, (_, open, close) => `${open}${JSON.stringify(value)}${close}`);
}

// The generator scripts/web-build.sh runs (web/examples/first_step_page.rs), built by it.
const FIRST_STEP_PAGE = path.join(process.env.CARGO_TARGET_DIR ?? path.join(ROOT, "target"), "debug/examples/first-step-page");
const firstSteps = new Map();

/** The page with the static first step for the options it now carries, as web-build.sh makes
 * it for a deployed page's options (cached per page text). */
async function withFirstStep(html) {
  if (!firstSteps.has(html)) {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "tl-page-"));
    const file = path.join(dir, "index.html");
    await fs.writeFile(file, html);
    const opts = { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] };
    if (existsSync(FIRST_STEP_PAGE)) execFileSync(FIRST_STEP_PAGE, [file], opts);
    else execFileSync("cargo", ["run", "-q", "--locked", "-p", "trustline-web", "--example", "first-step-page", "--", file], opts);
    firstSteps.set(html, await fs.readFile(file, "utf8"));
    await fs.rm(dir, { recursive: true, force: true });
  }
  return firstSteps.get(html);
}

async function readBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks).toString("utf8");
}

/** Serves dist/ and the dashboard example on a free loopback port. */
export async function startServer() {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const state = { config: defaultConfig(base), dashboardConfig: null, verifyRequests: [], sessions: 0, connections: [] };
  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url, base);
      const send = (status, type, body) => {
        res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
        res.end(body);
      };
      if (req.method === "POST" && url.pathname === "/session") {
        await readBody(req);
        state.sessions += 1;
        return send(201, "application/json", JSON.stringify(fakeSession()));
      }
      if (url.pathname.startsWith("/api/")) {
        const body = JSON.parse((await readBody(req)) || "{}");
        if (req.method === "POST") state.verifyRequests.push({ path: url.pathname, body, headers: req.headers });
        const [status, json] = fakeWorker(req.method, url.pathname, body, req.headers, state);
        return send(status, "application/json", JSON.stringify(json));
      }
      let file;
      if (url.pathname.startsWith("/dashboard/")) {
        const rel = url.pathname.slice("/dashboard/".length) || "index.html";
        file = path.join(DASHBOARD, path.normalize(rel));
        if (!file.startsWith(DASHBOARD)) return send(403, "text/plain", "no");
      } else {
        const rel = url.pathname === "/" ? "index.html" : url.pathname.slice(1);
        file = path.join(DIST, path.normalize(rel));
        if (!file.startsWith(DIST)) return send(403, "text/plain", "no");
      }
      let body = await fs.readFile(file);
      if (file === path.join(DIST, "index.html")) {
        body = await withFirstStep(replaceJson(body.toString(), "trustline-config", state.config));
      }

      if (file === path.join(DASHBOARD, "index.html")) {
        body = replaceJson(body.toString(), "dashboard-config", state.dashboardConfig ?? state.config);
      }
      send(200, TYPES[path.extname(file)] ?? "application/octet-stream", body);
    } catch (e) {
      res.writeHead(e.code === "ENOENT" ? 404 : 500, { "content-type": "text/plain" });
      res.end(String(e.message));
    }
  });
  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  return { base, state, close: () => new Promise((resolve) => server.close(resolve)) };
}

/** FAKE STS on its own free port (endpoint overrides are scheme://host:port only) that says
 * every key is a root key, with the CORS headers a browser needs. */
export async function startFakeRootSts() {
  const port = await freePort();
  const server = http.createServer(async (req, res) => {
    await readBody(req);
    res.writeHead(req.method === "OPTIONS" ? 204 : 200, {
      "access-control-allow-origin": req.headers.origin ?? "*",
      "access-control-allow-headers": "authorization, content-type, x-amz-date, x-amz-security-token",
      "access-control-allow-methods": "POST",
      "content-type": "text/xml",
    });
    res.end(req.method === "OPTIONS" ? "" : FAKE_ROOT_STS);
  });
  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(resolve)) };
}

/** Debian's Chromium, headless, with the flags that work as root on a closed network
 * (Playwright gives it a fresh temporary profile and removes it on close). */
export async function launchBrowser() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync",
    ],
  });
  return { browser, close: () => browser.close() };
}

/** A page that fails the test on console errors, page errors and CSP violations. */
export async function newPage(browser, { width = 1100, height = 900 } = {}) {
  const context = await browser.newContext({ viewport: { width, height } });
  // The Launch-stack link opens the AWS console in a new tab: answer it locally, never online.
  await context.route(/console\.aws\.amazon\.com/, (route) => route.fulfill({ body: "AWS console (stub)", contentType: "text/plain" }));
  const page = await context.newPage();
  const problems = [];
  page.on("console", (m) => m.type() === "error" && problems.push(`console: ${m.text()}`));
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  return { context, page, problems };
}

/** Counts the customer's clicks. */
export function clicker(page) {
  const counter = {
    count: 0,
    async click(selector) {
      counter.count += 1;
      await page.click(selector);
    },
  };
  return counter;
}

export async function screenshot(page, name) {
  await fs.mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** moto on a free port. `INITIAL_NO_AUTH_ACTION_COUNT` makes it check SigV4 after the setup calls. */
export async function startMoto({ noAuthActions } = {}) {
  const port = await freePort();
  const venv = process.env.TRUSTLINE_VENV ?? path.join(os.homedir(), ".cache/trustline/venv");
  const env = { ...process.env };
  if (noAuthActions !== undefined) env.INITIAL_NO_AUTH_ACTION_COUNT = String(noAuthActions);
  const proc = spawn(path.join(venv, "bin/moto_server"), ["-H", "127.0.0.1", "-p", String(port)], { env, stdio: "ignore" });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      const r = await fetch(`${url}/moto-api/`);
      if (r.ok) break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const stop = () => new Promise((resolve) => {
    proc.once("exit", resolve);
    proc.kill("SIGTERM");
  });
  return { url, stop };
}

/** An unsigned-but-routable IAM call to moto (allowed during its no-auth window). */
export async function motoIam(url, params) {
  const body = new URLSearchParams({ Version: "2010-05-08", ...params }).toString();
  const r = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      authorization: "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0",
    },
    body,
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`moto ${params.Action}: ${r.status} ${text}`);
  return text;
}

/**
 * The harness's static server and Chromium for one test file: started before its tests,
 * stopped after them. Use `fx.server` and `fx.chrome` inside tests and hooks.
 */
export function serverAndBrowser() {
  const fx = { server: null, chrome: null };
  before(async () => {
    fx.server = await startServer();
    fx.chrome = await launchBrowser();
  });
  after(async () => {
    await fx.chrome?.close();
    await fx.server?.close();
  });
  return fx;
}
