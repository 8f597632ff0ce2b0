// Loads the wizard's wasm module. A separate file (not Trunk's inline loader) so that the page's
// Content-Security-Policy can forbid inline scripts. The module's start function mounts the
// wizard when the page has #trustline-wizard and #trustline-config (index.html does).
const boot = document.querySelector("script[data-trustline-boot]");
const { default: init } = await import(boot.dataset.js);
await init({ module_or_path: boot.dataset.wasm });
