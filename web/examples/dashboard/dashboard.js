// The host side of embedding: load the wasm module, mount the wizard into the panel, listen for
// completion as a DOM event and as a callback, and destroy the wizard when done or cancelled.
//
// With a `backend` in the dashboard's config ({ url, headers }: the Trustline worker's API, or
// the vendor's own backend proxying it), a completed wizard is registered there
// (POST /v1/connections), the list of connected accounts comes from it, and the new account's
// first sync is started and followed until its inventory is in. Without one, the dashboard only
// shows what the wizard handed over.
import init, { mount } from "/trustline-web.js";

await init({ module_or_path: "/trustline-web_bg.wasm" });

const panel = document.getElementById("connect-panel");
const button = document.getElementById("connect-aws");
const events = document.getElementById("events");
const accounts = document.getElementById("accounts");
const errorBox = document.getElementById("mount-error");
const status = document.getElementById("backend-status");
// `backend` is the dashboard's own setting; everything else is the wizard's options.
const { backend, ...options } = JSON.parse(document.getElementById("dashboard-config").textContent);
let handle = null;

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

/** One call to the backend; throws an Error with the API's message (which names the field). */
async function api(method, path, body) {
  const response = await fetch(backend.url.replace(/\/$/, "") + path, {
    method,
    headers: { "content-type": "application/json", ...(backend.headers ?? {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "omit",
  });
  const json = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    const error = json?.error;
    throw new Error(error ? `${error.field ? `${error.field}: ` : ""}${error.message}` : `HTTP ${response.status}`);
  }
  return json;
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
    accounts.append(li);
  }
}

async function refreshAccounts() {
  renderAccounts((await api("GET", "/v1/connections")).connections);
}

/** Starts the connection's first sync and waits for its summary. */
async function firstSync(id) {
  await api("POST", `/v1/connections/${encodeURIComponent(id)}/sync`);
  for (let i = 0; i < 600; i++) {
    const state = await api("GET", `/v1/connections/${encodeURIComponent(id)}/sync`);
    if (!state.running && state.last) return state.last;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error("the first sync is taking long; it goes on in the worker");
}

/** What the dashboard's backend receives: the wizard's result, in the API's words. */
function registration(result) {
  const body = { kind: result.kind, data_sets: result.dataSets, regions: result.regions };
  if (result.roleArn) body.role_arn = result.roleArn;
  if (result.kind !== "access-key" && result.externalId) body.external_id = result.externalId;
  if (result.accessKeyId) {
    body.access_key_id = result.accessKeyId;
    body.secret_access_key = result.secretAccessKey;
  }
  return body;
}

async function register(result) {
  say("Registering the account…");
  try {
    const connection = await api("POST", "/v1/connections", registration(result));
    logEvent(`registered ${connection.id}`);
    await refreshAccounts();
    say(`Connected ${connection.account_id}. First inventory sync running…`);
    const last = await firstSync(connection.id);
    logEvent(`synced ${connection.id}: ${last.status}, ${last.resources} resources`);
    say(last.status === "ok"
      ? `Connected ${connection.account_id}: ${last.resources} resources inventoried.`
      : `Connected ${connection.account_id}, but its first sync ${last.status}: ${last.error ?? "see the worker's log"}`,
      last.status !== "ok");
  } catch (err) {
    logEvent(`backend error: ${err.message}`);
    say(`Could not register the account: ${err.message}`, true);
  }
}

// The DOM event bubbles from the mount element; its detail never holds a secret.
panel.addEventListener("trustline:complete", (e) => logEvent(`event trustline:complete ${e.detail.kind}`));
panel.addEventListener("trustline:cancel", () => logEvent("event trustline:cancel"));

button.addEventListener("click", () => {
  if (handle) return;
  errorBox.hidden = true;
  try {
    handle = mount(panel.querySelector(".wizard-root"), {
      ...options,
      title: "Connect an AWS account to Acme",
      onComplete(result) {
        logEvent(`callback onComplete ${result.kind} verified=${result.verified}`);
        setTimeout(close, 0);
        if (backend) {
          // The secret (key kinds) goes to the backend once, in this request's body, and is not kept.
          register(result);
          return;
        }
        accounts.querySelector(".empty")?.remove();
        const li = document.createElement("li");
        li.textContent = `${result.accountId ?? "?"} — ${result.roleArn ?? result.accessKeyId}`;
        accounts.append(li);
      },
      onCancel() {
        logEvent("callback onCancel");
        close();
      },
    });
    panel.hidden = false;
    button.disabled = true;
  } catch (err) {
    // Bad options: mount throws an Error naming the option.
    errorBox.textContent = err.message;
    errorBox.hidden = false;
  }
});

// Usable once the wizard's module is initialised and the handler is attached (the page's tests
// wait for this too).
button.disabled = false;

if (backend) {
  refreshAccounts().catch((err) => say(`The backend did not answer: ${err.message}`, true));
}
