// The host side of embedding, as a vendor's dashboard does it: ask its own backend
// (server.mjs) for a browser session for the signed-in customer's tenant, mount the wizard
// with it, listen for completion as a DOM event and as a callback, register the finished
// connection with the worker using the session's token, list the tenant's connections and
// follow the first sync the registration started; then show what a vendor's page shows after
// "Connected", through the worker's read API: each connection's posture (re-verified on every
// sync) with its findings and history, its inventory (counts per kind and region, and a
// filterable table a page at a time) and its recent changes.
//
// The page never sees the worker's operator token: its backend keeps that. The session's
// token lives in this module's memory only (no storage, no URL, no DOM), and is sent only as
// `Authorization: Bearer` to the worker's routes for this tenant.
//
// #dashboard-config holds the wizard's options plus two settings of this page:
//   sessionEndpoint  where the backend hands out sessions (default "/api/session"); null: no
//                    backend, the wizard is a pure helper and the page only shows its result
//   apiUrl           the worker's API as this page reaches it (default: this origin, which
//                    server.mjs proxies to the worker)
import init, { mount } from "/trustline-web.js";

await init({ module_or_path: "/trustline-web_bg.wasm" });

const panel = document.getElementById("connect-panel");
const button = document.getElementById("connect-aws");
const events = document.getElementById("events");
const accounts = document.getElementById("accounts");
const detail = document.getElementById("connection-detail");
const errorBox = document.getElementById("mount-error");
const status = document.getElementById("backend-status");
const config = JSON.parse(document.getElementById("dashboard-config").textContent);
const { sessionEndpoint = "/api/session", apiUrl = location.origin, ...options } = config;
let handle = null;
/** The current session: { token, tenant, expires_at, external_id, vendor_principal }. */
let session = null;

function logEvent(text) {
  const li = document.createElement("li");
  li.textContent = text;
  events.append(li);
}

function say(text, isError = false) {
  status.textContent = text;
  status.classList.toggle("error", isError);
  status.hidden = !text;
}

function close() {
  handle?.destroy();
  handle = null;
  panel.hidden = true;
  button.disabled = false;
}

/** The API's error as one line that names the field: "role_arn: …". */
async function failure(response) {
  const json = await response.json().catch(() => null);
  const error = json?.error;
  return new Error(error ? `${error.field ? `${error.field}: ` : ""}${error.message}` : `HTTP ${response.status}`);
}

/** A fresh session from this dashboard's backend (sessions last minutes: one per wizard). */
async function newSession() {
  const response = await fetch(sessionEndpoint, { method: "POST", credentials: "same-origin" });
  if (!response.ok) throw await failure(response);
  session = await response.json();
  return session;
}

/** One call to the worker for the session's tenant; throws an Error naming the field. */
async function api(method, path, body) {
  const tenant = `/v1/tenants/${encodeURIComponent(session.tenant)}`;
  const response = await fetch(apiUrl.replace(/\/$/, "") + tenant + path, {
    method,
    headers: { "content-type": "application/json", authorization: `Bearer ${session.token}` },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "omit",
  });
  if (!response.ok) throw await failure(response);
  return response.status === 204 ? null : response.json();
}

function renderAccounts(list) {
  accounts.replaceChildren();
  if (list.length === 0) {
    const li = document.createElement("li");
    li.className = "empty";
    li.textContent = "None yet.";
    accounts.append(li);
  }
  for (const c of list) {
    const li = document.createElement("li");
    li.dataset.connection = c.id;
    li.textContent = `${c.account_id ?? "?"} — ${c.name} (${c.kind}, ${c.status})`;
    if (c.posture) {
      const badge = document.createElement("span");
      badge.className = `posture posture-${c.posture}`;
      badge.textContent = c.posture;
      li.append(" ", badge);
    }
    const show = document.createElement("button");
    show.type = "button";
    show.className = "show-detail";
    show.textContent = "Details";
    show.addEventListener("click", () => showDetail(c).catch((err) => say(`Could not load ${c.id}: ${err.message}`, true)));
    li.append(" ", show);
    accounts.append(li);
  }
}

/** An element with text, for the detail panel (never innerHTML: the values are the API's). */
function el(tag, text, className) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (className) e.className = className;
  return e;
}

function table(headers, rows) {
  const t = el("table");
  const head = t.createTHead().insertRow();
  for (const h of headers) head.append(el("th", h));
  const body = t.createTBody();
  for (const row of rows) {
    const tr = body.insertRow();
    for (const cell of row) tr.append(el("td", String(cell ?? "")));
  }
  return t;
}

/** Every page of an inventory query (the counts need them all; a vendor's backend would keep
 * its own copy from the change feed instead). */
async function allResources(query) {
  const items = [];
  let cursor = null;
  do {
    const page = await api("GET", `/inventory?${query}&limit=1000${cursor ? `&cursor=${cursor}` : ""}`);
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return items;
}

/** The latest `n` changes of a connection, from its change feed. */
async function recentChanges(connection, n) {
  let items = [];
  let cursor = "";
  for (;;) {
    const feed = await api("GET", `/changes?connection=${encodeURIComponent(connection)}&limit=1000${cursor ? `&cursor=${cursor}` : ""}`);
    items = items.concat(feed.items).slice(-n);
    cursor = feed.cursor;
    if (!feed.more) return items;
  }
}

function renderPosture(report) {
  const section = el("section");
  section.id = "posture";
  section.append(el("h3", "Posture"));
  const current = report.current;
  if (!current) {
    section.append(el("p", "Not checked yet: the next sync re-verifies the connection."));
    return section;
  }
  const line = el("p");
  line.append(el("span", current.posture, `posture posture-${current.posture}`), ` since ${current.changed_at}, last checked ${current.last_checked_at}`);
  section.append(line);
  if (current.findings.length) {
    const ul = el("ul", undefined, "findings");
    for (const f of current.findings) {
      const li = el("li");
      li.dataset.finding = f.id;
      li.append(el("strong", `[${f.severity}] `), `${f.evidence} `, el("em", f.fix));
      ul.append(li);
    }
    section.append(ul);
  }
  section.append(el("h4", "History"));
  section.append(table(["When", "From", "To", "Findings"], report.history.map((h) => [h.at, h.previous ?? "—", h.posture, h.findings.length])));
  return section;
}

function renderCounts(resources) {
  const counts = new Map();
  for (const r of resources) {
    const key = `${r.kind}\u0000${r.region}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const rows = [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([key, n]) => [...key.split("\u0000"), n]);
  const section = el("section");
  section.id = "inventory-counts";
  section.append(el("h3", `Inventory: ${resources.length} resources`), table(["Kind", "Region", "Count"], rows));
  return section;
}

/** The filterable inventory table: kind, region and tag filters, 25 a page, "More" follows the cursor. */
function renderBrowser(connection) {
  const section = el("section");
  section.id = "inventory-browser";
  section.append(el("h3", "Resources"));
  const form = el("form");
  const field = (name, label, placeholder) => {
    const input = el("input");
    input.name = name;
    input.placeholder = placeholder;
    input.setAttribute("aria-label", label);
    form.append(input, " ");
    return input;
  };
  const kind = field("kind", "Kind", "kind, e.g. iam-user");
  const region = field("region", "Region", "region or global");
  const tag = field("tag", "Tag", "tag KEY=VALUE");
  form.append(el("button", "Filter"));
  const out = el("div");
  const more = el("button", "More");
  more.type = "button";
  more.hidden = true;
  const error = el("p", "", "error");
  let cursor = null;
  const load = async (reset) => {
    const q = new URLSearchParams({ connection, limit: "25" });
    for (const input of [kind, region, tag]) if (input.value.trim()) q.set(input.name, input.value.trim());
    if (!reset && cursor) q.set("cursor", cursor);
    try {
      const page = await api("GET", `/inventory?${q}`);
      error.textContent = "";
      const rows = page.items.map((r) => [r.kind, r.region, r.id, r.name, Object.entries(r.tags).map(([k, v]) => `${k}=${v}`).join(", "), r.stale ? "stale" : ""]);
      const t = table(["Kind", "Region", "Id", "Name", "Tags", ""], rows);
      if (reset) out.replaceChildren(t);
      else out.querySelector("tbody").append(...t.tBodies[0].rows);
      cursor = page.next_cursor;
      more.hidden = !cursor;
    } catch (err) {
      error.textContent = err.message; // the API names the field: "kind: …"
    }
  };
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    load(true);
  });
  more.addEventListener("click", () => load(false));
  section.append(form, error, out, more);
  load(true);
  return section;
}

/** The detail panel of one connection. */
async function showDetail(c) {
  const [posture, resources, changes] = await Promise.all([
    api("GET", `/connections/${encodeURIComponent(c.id)}/posture`),
    allResources(`connection=${encodeURIComponent(c.id)}`),
    recentChanges(c.id, 20),
  ]);
  const changeList = el("section");
  changeList.id = "recent-changes";
  changeList.append(el("h3", "Recent changes"), table(["When", "Change", "Kind", "Region", "Id", "Fields"],
    changes.reverse().map((x) => [x.at, x.change, x.kind, x.region, x.id, x.fields.join(", ")])));
  detail.replaceChildren(el("h2", `${c.account_id ?? "?"} — ${c.name}`), renderPosture(posture), renderCounts(resources), renderBrowser(c.id), changeList);
  detail.dataset.connection = c.id;
  detail.hidden = false;
}

async function refreshAccounts() {
  renderAccounts((await api("GET", "/connections")).connections);
}

/** Waits for the first sync, which the registration started, to finish. */
async function firstSync(id) {
  for (let i = 0; i < 600; i++) {
    const state = await api("GET", `/connections/${encodeURIComponent(id)}/sync`);
    if (!state.running && state.last) return state.last;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error("the first sync is taking long; it goes on in the worker");
}

/** The registration, in the API's words: no id (the worker makes one), no ExternalId (the
 * worker uses the one it issued to the tenant). */
function registration(result) {
  const body = { kind: result.kind, data_sets: result.dataSets, regions: result.regions };
  if (result.roleArn) body.role_arn = result.roleArn;
  if (result.accessKeyId) {
    body.access_key_id = result.accessKeyId;
    body.secret_access_key = result.secretAccessKey;
  }
  return body;
}

async function register(result) {
  say("Registering the account…");
  try {
    const connection = await api("POST", "/connections", registration(result));
    logEvent(`registered ${connection.id}`);
    await refreshAccounts();
    say(`Connected ${connection.account_id}. First inventory sync running…`);
    const last = await firstSync(connection.id);
    logEvent(`synced ${connection.id}: ${last.status}, ${last.resources} resources`);
    await refreshAccounts();
    say(last.status === "ok"
      ? `Connected ${connection.account_id}: ${last.resources} resources inventoried.`
      : `Connected ${connection.account_id}, but its first sync ${last.status}: ${last.error ?? "see the worker's log"}`,
      last.status !== "ok");
  } catch (err) {
    logEvent(`backend error: ${err.message}`);
    say(`Could not register the account: ${err.message}`, true);
  }
}

/** Shows what a pure helper handed over (no session: nothing can be registered). */
function showResult(result) {
  accounts.querySelector(".empty")?.remove();
  const li = document.createElement("li");
  li.textContent = `${result.accountId ?? "?"} — ${result.roleArn ?? result.accessKeyId}`;
  accounts.append(li);
  if (result.externalIdSource === "browser") {
    say("Not registered: the ExternalId was generated in this browser, so no tenant has it.", true);
  }
}

// The DOM event bubbles from the mount element; its detail never holds a secret or the token.
panel.addEventListener("trustline:complete", (e) => logEvent(`event trustline:complete ${e.detail.kind}`));
panel.addEventListener("trustline:cancel", () => logEvent("event trustline:cancel"));

async function open() {
  errorBox.hidden = true;
  button.disabled = true;
  try {
    const s = sessionEndpoint ? await newSession() : null;
    const wizardSession = s && {
      url: apiUrl,
      tenant: s.tenant,
      token: s.token,
      externalId: s.external_id,
      expiresAt: s.expires_at,
    };
    handle = mount(panel.querySelector(".wizard-root"), {
      vendorPrincipal: s?.vendor_principal ?? undefined,
      ...options,
      ...(wizardSession ? { session: wizardSession } : {}),
      title: "Connect an AWS account to Acme",
      onComplete(result) {
        logEvent(`callback onComplete ${result.kind} verified=${result.verified}`);
        setTimeout(close, 0);
        // The secret (key kinds) goes to the worker once, in this request's body, and is not kept.
        if (result.tenant) register(result);
        else showResult(result);
      },
      onCancel() {
        logEvent("callback onCancel");
        close();
      },
    });
    panel.hidden = false;
  } catch (err) {
    // Bad options (mount throws an Error naming the option), or no session from the backend.
    errorBox.textContent = err.message;
    errorBox.hidden = false;
    button.disabled = false;
  }
}

button.addEventListener("click", () => {
  if (!handle) open();
});

// Usable once the wizard's module is initialised and the handler is attached (the page's tests
// wait for this too).
button.disabled = false;

if (sessionEndpoint) {
  newSession()
    .then(refreshAccounts)
    .catch((err) => say(`The backend did not answer: ${err.message}`, true));
}
