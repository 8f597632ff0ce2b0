// Loads the wizard's wasm module. A separate file (not Trunk's inline loader) so that the page's
// Content-Security-Policy can forbid inline scripts. The module's start function mounts the
// wizard when the page has #trustline-wizard and #trustline-config (index.html does).
//
// With `"sessionFrom": { "endpoint": URL, "url"?: API }` in #trustline-config (a setting of this
// page, not a mount() option), the page first asks the vendor's backend for a browser session
// (POST endpoint → the worker's session JSON) and mounts the wizard with it itself, so the
// session's token never sits in the page's HTML: it lives in this script's memory and the
// wizard's. `url` is where the worker's API is for the session (default: this page's origin).
const boot = document.querySelector("script[data-trustline-boot]");
const configElement = document.getElementById("trustline-config");
let page = null;
try {
  page = configElement ? JSON.parse(configElement.textContent) : null;
} catch {
  // Not JSON: the start function reports it where the wizard would be.
}
const sessionFrom = page?.sessionFrom;
// The wizard's handle. Exported so that the module record keeps it: a handle the garbage
// collector takes frees the wizard's state, and the first step could no longer hand over.
export let handle = null;
// Without the element the start function leaves the page to this script.
if (sessionFrom) configElement.remove();
const wizard = await import(boot.dataset.js);
await wizard.default({ module_or_path: boot.dataset.wasm });

if (sessionFrom) {
  const root = document.getElementById("trustline-wizard");
  const { sessionFrom: _, ...options } = page;
  try {
    const session = await newSession(sessionFrom);
    // The standalone page lives as long as the tab: the handle is never destroyed.
    handle = wizard.mount(root, { ...options, session });
  } catch (err) {
    root.textContent = err.message;
    root.setAttribute("role", "alert");
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
