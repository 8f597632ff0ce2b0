//! Writes the wizard's first step as static HTML into a built page (`dist/index.html`, run by
//! `scripts/web-build.sh` after Trunk and after the page's options are set): the markup goes
//! into `<main id="trustline-wizard">`, made for the options in `#trustline-config`, so the page
//! is usable before the wasm module arrives. Options the wizard would refuse leave the page as
//! it is: `mount()` then reports the error where the wizard would be.
//!
//!     cargo run -p trustline-web --example first-step-page -- dist/index.html

// A command-line tool: its messages are for the person or script running it.
#![allow(clippy::print_stderr)]

use std::process::ExitCode;

use trustline_web::config::{Config, Options};
use trustline_web::first_step;

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: first-step-page PAGE.html");
        return ExitCode::from(2);
    };
    let page = match std::fs::read_to_string(&path) {
        Ok(page) => page,
        Err(e) => {
            eprintln!("first-step-page: {path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    match with_first_step(&page) {
        Ok(page) => match std::fs::write(&path, page) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("first-step-page: {path}: {e}");
                ExitCode::FAILURE
            }
        },
        Err(why) => {
            eprintln!("first-step-page: {path} left without a static first step: {why}");
            ExitCode::SUCCESS
        }
    }
}

fn with_first_step(page: &str) -> Result<String, String> {
    let open = r#"<script type="application/json" id="trustline-config">"#;
    let start = page.find(open).ok_or("no #trustline-config")? + open.len();
    let end = start + page[start..].find("</script>").ok_or("#trustline-config is not closed")?;
    let mut json: serde_json::Value =
        serde_json::from_str(&page[start..end]).map_err(|e| format!("#trustline-config: {e}"))?;
    // A setting of the page (web/boot.js), not a mount() option.
    if let Some(map) = json.as_object_mut() {
        map.remove("sessionFrom");
    }
    let options = Options::from_json(json).map_err(|e| e.to_string())?;
    // The ExternalId is not on the first step; mount() makes or takes the real one.
    let config = Config::from_options(options, |_| "first-step0000".parse()).map_err(|e| e.to_string())?;

    let main = page.find(r#"<main id="trustline-wizard""#).ok_or("no <main id=\"trustline-wizard\">")?;
    let inner = main + page[main..].find('>').ok_or("<main> is not closed")? + 1;
    let close = inner + page[inner..].find("</main>").ok_or("no </main>")?;
    // Replaces what is there (the <noscript> note stays first; a previous run's markup goes).
    let keep = page[inner..close]
        .find("<noscript>")
        .and_then(|at| {
            let from = inner + at;
            page[from..close].find("</noscript>").map(|to| &page[from..from + to + "</noscript>".len()])
        })
        .unwrap_or("");
    Ok(format!("{}{keep}{}{}", &page[..inner], first_step::markup(&config), &page[close..]))
}
