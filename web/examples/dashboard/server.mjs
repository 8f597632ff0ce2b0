// The example dashboard's backend, as a vendor's would be (plain Node 20, no dependencies):
//
// - it alone holds the worker's operator token (TRUSTLINE_API_TOKEN) and knows the worker
//   (TRUSTLINE_WORKER_URL);
// - POST /api/session makes sure the demo tenant exists and returns a fresh browser session for
//   it, the worker's JSON as is (a real backend would first check who is signed in and pick
//   that customer's tenant);
// - /v1/* is proxied to the worker as the page sent it, WITHOUT the operator token: the page
//   authenticates with its session's token, and the worker limits that to the session's tenant;
// - everything else is files: the dashboard at /dashboard/ and the built wizard (dist/) at /.
//
//   TRUSTLINE_API_TOKEN=… TRUSTLINE_WORKER_URL=http://127.0.0.1:8787 node web/examples/dashboard/server.mjs
//
// Options (flags or environment):
//   --port N            TRUSTLINE_DASHBOARD_PORT   default 0: a free port
//   --dist DIR          TRUSTLINE_DASHBOARD_DIST   default <repository>/dist
//   --tenant ID         TRUSTLINE_DEMO_TENANT      default "demo"
//   --allow-origin O    TRUSTLINE_DASHBOARD_ALLOW_ORIGIN: another origin that may ask for
//                       sessions (the worker's standalone page in scripts/run.sh)
//   TRUSTLINE_DASHBOARD_CONFIG  JSON replacing #dashboard-config (the wizard's options)
// Binds 127.0.0.1 only and prints `listening on http://127.0.0.1:PORT` on stderr.
import fs from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import { parseArgs } from "node:util";

const HERE = import.meta.dirname;
const { values: flags } = parseArgs({
  options: {
    port: { type: "string" },
    dist: { type: "string" },
    tenant: { type: "string" },
    "allow-origin": { type: "string" },
  },
});
const env = process.env;
const TOKEN = env.TRUSTLINE_API_TOKEN;
const WORKER = (env.TRUSTLINE_WORKER_URL ?? "").replace(/\/$/, "");
if (!TOKEN || !/^https?:\/\//.test(WORKER)) {
  console.error("dashboard: set TRUSTLINE_API_TOKEN (the worker's operator token) and TRUSTLINE_WORKER_URL (e.g. http://127.0.0.1:8787)");
  process.exit(2);
}
const PORT = Number(flags.port ?? env.TRUSTLINE_DASHBOARD_PORT ?? 0);
const DIST = path.resolve(flags.dist ?? env.TRUSTLINE_DASHBOARD_DIST ?? path.join(HERE, "../../../dist"));
const TENANT = flags.tenant ?? env.TRUSTLINE_DEMO_TENANT ?? "demo";
const ALLOW_ORIGIN = flags["allow-origin"] ?? env.TRUSTLINE_DASHBOARD_ALLOW_ORIGIN ?? null;
const CONFIG = env.TRUSTLINE_DASHBOARD_CONFIG ? JSON.parse(env.TRUSTLINE_DASHBOARD_CONFIG) : null;
/** Session lifetime asked of the worker: long enough to create a stack, short if it leaks. */
const SESSION_TTL_SECONDS = 900;

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".mjs": "text/javascript",
  ".wasm": "application/wasm",
  ".css": "text/css",
  ".ts": "text/plain; charset=utf-8",
  ".json": "application/json",
};

/** A call to the worker as the operator (this backend only). */
async function operator(method, pathname, body) {
  const response = await fetch(WORKER + pathname, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, json: await response.json().catch(() => null) };
}

/** Creates the demo tenant unless it exists, then a session for it. */
async function newSession() {
  const created = await operator("POST", "/v1/tenants", { id: TENANT, name: "Demo Customer" });
  if (created.status !== 201 && created.status !== 409) return created;
  return operator("POST", `/v1/tenants/${encodeURIComponent(TENANT)}/sessions`, { ttl_seconds: SESSION_TTL_SECONDS });
}

async function readBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks);
}

/** The page's /v1/* request, to the worker: its own Authorization (the session's), never ours. */
async function proxy(req, res) {
  const headers = {};
  for (const name of ["authorization", "content-type", "accept"]) {
    if (req.headers[name]) headers[name] = req.headers[name];
  }
  const body = ["GET", "HEAD"].includes(req.method) ? undefined : await readBody(req);
  // node's fetch sends the worker's own Host, which `trustline serve` checks.
  const response = await fetch(WORKER + req.url, { method: req.method, headers, body, redirect: "manual" });
  res.writeHead(response.status, {
    "content-type": response.headers.get("content-type") ?? "application/octet-stream",
    "cache-control": "no-store",
  });
  res.end(Buffer.from(await response.arrayBuffer()));
}

function replaceJson(html, id, value) {
  const re = new RegExp(`(<script type="application/json" id="${id}">)[\\s\\S]*?(</script>)`);
  return html.replace(re, (_, open, close) => open + JSON.stringify(value).replaceAll("<", "\\u003c") + close);
}

/** A file under `root`, or null for a path outside it. */
function under(root, rel) {
  const file = path.join(root, path.normalize(`/${rel}`));
  return file.startsWith(root + path.sep) ? file : null;
}

async function serveFile(url, res) {
  let file;
  if (url.pathname === "/" || url.pathname === "/dashboard") {
    res.writeHead(302, { location: "/dashboard/" });
    return res.end();
  }
  if (url.pathname.startsWith("/dashboard/")) {
    const rel = url.pathname.slice("/dashboard/".length) || "index.html";
    // Only the page's files: not this server's source.
    if (!["index.html", "dashboard.js", "dashboard.css"].includes(rel)) return notFound(res);
    file = under(HERE, rel);
  } else {
    file = under(DIST, decodeURIComponent(url.pathname.slice(1)));
  }
  if (!file) return notFound(res);
  let body = await fs.readFile(file);
  if (CONFIG && file === path.join(HERE, "index.html")) body = replaceJson(body.toString(), "dashboard-config", CONFIG);
  res.writeHead(200, { "content-type": TYPES[path.extname(file)] ?? "application/octet-stream", "cache-control": "no-store" });
  res.end(body);
}

function notFound(res) {
  res.writeHead(404, { "content-type": "text/plain" });
  res.end("not found");
}

function sendJson(res, status, json, extra = {}) {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", ...extra });
  res.end(JSON.stringify(json));
}

const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, "http://localhost");
    if (url.pathname === "/api/session") {
      const cors = ALLOW_ORIGIN && req.headers.origin === ALLOW_ORIGIN
        ? { "access-control-allow-origin": ALLOW_ORIGIN, vary: "origin" }
        : {};
      if (req.method === "OPTIONS") {
        res.writeHead(204, { ...cors, "access-control-allow-methods": "POST" });
        return res.end();
      }
      if (req.method !== "POST") return sendJson(res, 405, { error: { field: null, message: "POST only" } });
      await readBody(req);
      const { status, json } = await newSession();
      if (status !== 201) {
        const message = json?.error?.message ?? `the worker answered HTTP ${status}`;
        return sendJson(res, 502, { error: { field: null, message: `could not start a session: ${message}` } }, cors);
      }
      return sendJson(res, 201, json, cors);
    }
    if (url.pathname.startsWith("/v1/")) return await proxy(req, res);
    if (req.method !== "GET" && req.method !== "HEAD") return notFound(res);
    await serveFile(url, res);
  } catch (err) {
    if (res.headersSent) return res.destroy();
    if (err.code === "ENOENT" || err.code === "EISDIR") return notFound(res);
    const message = err.cause?.code === "ECONNREFUSED" ? "the worker is not reachable" : err.message;
    sendJson(res, 502, { error: { field: null, message } });
  }
});

server.listen(PORT, "127.0.0.1", () => {
  console.error(`listening on http://127.0.0.1:${server.address().port}`);
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
