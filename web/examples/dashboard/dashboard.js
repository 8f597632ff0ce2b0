// The host side of embedding: load the wasm module, mount the wizard into the panel, listen for
// completion as a DOM event and as a callback, and destroy the wizard when done or cancelled.
import init, { mount } from "/trustline-web.js";

await init({ module_or_path: "/trustline-web_bg.wasm" });

const panel = document.getElementById("connect-panel");
const button = document.getElementById("connect-aws");
const events = document.getElementById("events");
const accounts = document.getElementById("accounts");
const errorBox = document.getElementById("mount-error");
const options = JSON.parse(document.getElementById("dashboard-config").textContent);
let handle = null;

function logEvent(text) {
  const li = document.createElement("li");
  li.textContent = text;
  events.append(li);
}

function close() {
  handle?.destroy();
  handle = null;
  panel.hidden = true;
  button.disabled = false;
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
        // A real dashboard POSTs this to its backend (POST /v1/connections) and forgets any secret.
        logEvent(`callback onComplete ${result.kind} verified=${result.verified}`);
        accounts.querySelector(".empty")?.remove();
        const li = document.createElement("li");
        li.textContent = `${result.accountId ?? "?"} — ${result.roleArn ?? result.accessKeyId}`;
        accounts.append(li);
        setTimeout(close, 0);
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
