# wasm tests: wasm-bindgen-test-runner (same version as the wasm-bindgen in Cargo.lock) for Node
# and headless Chromium, and Chromium with its WebDriver from Debian.
# No --locked: the CLI's own lockfile pins a webpki-roots the registry no longer has.
cargo_install_version wasm-bindgen-cli 0.2.130 wasm-bindgen-test-runner
apt_install chromium chromium-driver
have node || apt_install nodejs
