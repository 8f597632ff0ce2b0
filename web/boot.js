// The standalone page's loader. A separate file (not Trunk's inline loader) so that the page's
// Content-Security-Policy can forbid inline scripts.
//
// The page arrives with the wizard's first step as static HTML (web/src/first_step.rs, written
// in by scripts/web-build.sh): this script makes it work before the wasm module is there. A
// card chosen meanwhile is marked pressed and the page says it is preparing the next step;
// mount() reads the pressed card and starts at the scope step. The module (preloaded by the
// page's <link rel="modulepreload"> and <link rel="preload">) is fetched once; a failed fetch is
// reported in the page and retried.
//
// With `"sessionFrom": { "endpoint": URL, "url"?: API }` in #trustline-config (a setting of this
// page, not a mount() option), the page first asks the vendor's backend for a browser session
// (POST endpoint → the worker's session JSON) and mounts the wizard with it, so the session's
// token never sits in the page's HTML: it lives in this script's memory and the wizard's. `url`
// is where the worker's API is for the session (default: this page's origin).
const boot = document.querySelector("script[data-trustline-boot]");
const root = document.getElementById("trustline-wizard");
const configElement = document.getElementById("trustline-config");
const STATIC = "[data-tl-static]";
// The wizard's handle. Exported so that the module record keeps it: a handle the garbage
// collector takes frees the wizard's state.
export let handle = null;
let cancelled = false;

function alertInRoot(message) {
  root.textContent = message;
  root.setAttribute("role", "alert");
}

// The static first step, before the module: a card click (or Enter/Space on it) is the choice.
root.addEventListener("click", (event) => {
  const first = root.querySelector(STATIC);
  if (!first || !first.contains(event.target)) return;
  const card = event.target.closest(".tl-card-button");
  if (card) {
    for (const other of first.querySelectorAll(".tl-card-button")) {
      other.setAttribute("aria-pressed", String(other === card));
      other.closest(".tl-card").classList.toggle("tl-selected", other === card);
    }
    const note = first.querySelector("#tl-rest-loading");
    if (note) note.hidden = false;
  } else if (event.target.closest("#tl-cancel")) {
    cancelled = true;
    root.innerHTML = '<div class="tl-wizard"><p class="tl-alert" role="status" id="tl-cancelled"></p></div>';
    root.querySelector("#tl-cancelled").textContent = "Cancelled. Nothing was connected.";
    root.dispatchEvent(new CustomEvent("trustline:cancel", { bubbles: true, composed: true }));
  }
});

/** Shows that the module could not be fetched and when the page tries again. */
function showFailure(error, seconds) {
  const first = root.querySelector(STATIC);
  if (!first) return;
  let alert = first.querySelector("#tl-rest-failed");
  if (!alert) {
    alert = document.createElement("p");
    alert.id = "tl-rest-failed";
    alert.className = "tl-alert tl-danger";
    alert.setAttribute("role", "alert");
    // Where the step says what happens next: above Cancel.
    const step = first.querySelector(".tl-step");
    step.insertBefore(alert, step.querySelector(".tl-nav"));
  }
  alert.textContent = `The next step could not be loaded (${error.message}). Trying again in ${seconds} s; check your connection.`;
}

/** Resolves after the browser has painted (a task queued from requestAnimationFrame runs after
 * the frame it precedes): compiling and starting the module must not delay the static step's
 * first paint. The module's bytes are preloaded meanwhile. */
const afterPaint = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve)));

/** Imports the wizard's module and instantiates its wasm, retrying with a growing pause. */
async function loadWizard() {
  await afterPaint();
  for (let attempt = 0; ; attempt++) {
    // A failed module import can stay failed for its URL: a retry asks for a fresh one.
    const suffix = attempt === 0 ? "" : `?retry=${attempt}`;
    try {
      const wizard = await import(boot.dataset.js + suffix);
      await wizard.default({ module_or_path: boot.dataset.wasm + suffix });
      root.querySelector("#tl-rest-failed")?.remove();
      return wizard;
    } catch (error) {
      const seconds = Math.min(2 ** attempt, 30);
      showFailure(error, seconds);
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    }
  }
}

let page = null;
try {
  page = configElement ? JSON.parse(configElement.textContent) : null;
} catch {
  alertInRoot("Trustline: the trustline-config script is not valid JSON");
}
if (page) {
  const { sessionFrom, ...options } = page;
  try {
    const [wizard, session] = await Promise.all([loadWizard(), sessionFrom ? newSession(sessionFrom) : null]);
    if (!cancelled) {
      // The standalone page lives as long as the tab: the handle is never destroyed.
      handle = wizard.mount(root, session ? { ...options, session } : options);
    }
  } catch (err) {
    alertInRoot(err.message);
  }
}

/** The vendor backend's session for this customer, as the wizard's `session` option. */
async function newSession({ endpoint, url }) {
  let response;
  try {
    response = await fetch(endpoint, { method: "POST", credentials: "same-origin" });
  } catch (err) {
    throw new Error(`Trustline: could not start a session at ${endpoint} (${err.message}); reload the page to try again`);
  }
  const json = await response.json().catch(() => null);
  if (!response.ok || !json?.token) {
    const why = json?.error?.message ?? `HTTP ${response.status}`;
    throw new Error(`Trustline: could not start a session at ${endpoint}: ${why}; reload the page to try again`);
  }
  return {
    url: url ?? location.origin,
    tenant: json.tenant,
    token: json.token,
    externalId: json.external_id,
    expiresAt: json.expires_at ?? undefined,
  };
}
