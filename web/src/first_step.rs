//! The first step ("How do you want to connect?") as static HTML, from core's integration kinds
//! (`IntegrationKind::ALL` and `.info()`, the data behind `trustline kinds`), so that the page is
//! usable before the wasm module arrives: `scripts/web-build.sh` writes it into the built
//! `index.html` (`examples/first_step_page.rs`). The markup is the Yew step's (`steps::kind`,
//! `components::kind_card`, `components::frame`): the same ids, classes and ARIA attributes, so
//! the page's CSS, keyboard use and tests see one first step. `web/boot.js` keeps a choice made
//! before the module arrives (`aria-pressed="true"` on the card), and `mount()` takes it over.

use std::fmt::Write;

use trustline_core::IntegrationKind;

use crate::config::Config;
use crate::state::Step;

/// The attribute that marks the static first step; `mount()` replaces the element carrying it.
pub const STATIC_MARK: &str = "data-tl-static";

/// HTML-escapes text for an element or a double-quoted attribute.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The progress indicator, as `components::progress` renders it.
fn progress(current: Step) -> String {
    let current = current as usize;
    let mut out = String::from(r#"<nav class="tl-progress" aria-label="Progress"><ol>"#);
    for (i, step) in Step::ALL.iter().enumerate() {
        let state = match i.cmp(&current) {
            std::cmp::Ordering::Less => "tl-done",
            std::cmp::Ordering::Equal => "tl-current",
            std::cmp::Ordering::Greater => "tl-todo",
        };
        let aria = if i == current { r#" aria-current="step""# } else { "" };
        let _ = write!(
            out,
            r#"<li class="{state}"{aria}><span class="tl-step-number" aria-hidden="true">{}</span><span class="tl-step-title">{}</span></li>"#,
            i + 1,
            step.title()
        );
    }
    let _ = write!(
        out,
        r#"</ol><p class="tl-sr-only" aria-live="polite">Step {} of {}: {}</p></nav>"#,
        current + 1,
        Step::ALL.len(),
        Step::ALL[current].title()
    );
    out
}

/// One kind's card, as `components::kind_card` renders it.
fn card(kind: IntegrationKind) -> String {
    let info = kind.info();
    let stars = usize::from(info.security_stars);
    let list = |items: &[&str]| items.iter().map(|s| format!("<li>{}</li>", esc(s))).collect::<String>();
    format!(
        concat!(
            r#"<li class="tl-card{recommended_class}">"#,
            r#"<button type="button" id="tl-kind-{id}" class="tl-card-button" aria-describedby="tl-kind-{id}-desc" aria-pressed="false" data-kind="{id}">"#,
            r#"{tag}<span class="tl-card-title">{title}</span><span class="tl-stars" aria-label="Security {stars} of 5">{filled}{empty}</span></button>"#,
            r#"<div id="tl-kind-{id}-desc" class="tl-card-body"><p><strong>Best for: </strong>{best_for}</p>"#,
            r#"<details><summary>What setup includes, and the risks</summary><ul>{includes}</ul>"#,
            r#"<p><strong>Risks</strong></p><ul class="tl-risks">{risks}</ul></details></div></li>"#,
        ),
        recommended_class = if info.recommended { " tl-recommended" } else { "" },
        id = info.id,
        tag = if info.recommended { r#"<span class="tl-tag">Recommended</span>"# } else { "" },
        title = esc(info.title),
        stars = stars,
        filled = "★".repeat(stars),
        empty = "☆".repeat(5 - stars),
        best_for = esc(info.best_for),
        includes = list(info.setup_includes),
        risks = list(info.risks),
    )
}

/// The whole first step for `config`: its title and intro, and the kinds it offers. With a
/// single allowed kind the wizard starts at the scope step, so the page says it is preparing it.
pub fn markup(config: &Config) -> String {
    let single = config.allowed_kinds.len() == 1;
    let step = if single { Step::Scope } else { Step::Kind };
    let intro =
        config.intro.as_deref().map(|i| format!(r#"<p class="tl-intro">{}</p>"#, esc(i))).unwrap_or_default();
    let body = if single {
        format!(r#"<p class="tl-note" role="status" id="tl-rest-loading">{PREPARING}</p>"#)
    } else {
        format!(
            concat!(
                "<p>Choose how to give access. The recommended option shares no secret and takes one click in the AWS console.</p>",
                r#"<ul class="tl-cards">{cards}</ul>"#,
                r#"<p class="tl-note" role="status" id="tl-rest-loading" hidden>{preparing}</p>"#,
                r#"<div class="tl-nav"><button type="button" class="tl-button tl-link" id="tl-cancel">Cancel</button><span class="tl-spacer"></span></div>"#,
            ),
            cards = config.allowed_kinds.iter().map(|k| card(*k)).collect::<String>(),
            preparing = PREPARING,
        )
    };
    let heading = match step {
        Step::Kind => "How do you want to connect?".to_owned(),
        _ => format!("What may {} read?", esc(&config.vendor_name)),
    };
    format!(
        concat!(
            r#"<div class="tl-wizard" data-step="{step}" {mark}>"#,
            r#"<header class="tl-header"><h1 class="tl-title">{title}</h1>{intro}</header>{progress}"#,
            r#"<section class="tl-step" aria-labelledby="tl-step-heading"><h2 id="tl-step-heading" tabindex="-1">{heading}</h2>{body}</section></div>"#,
        ),
        step = step.id(),
        mark = STATIC_MARK,
        title = esc(&config.title),
        intro = intro,
        progress = progress(step),
        heading = heading,
        body = body,
    )
}

/// What the page says between a choice and the wizard's next step.
pub const PREPARING: &str = "Preparing the next step…";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::{config, options};
    use crate::config::{Config, Options};

    #[test]
    fn every_kind_is_a_button_from_cores_data_safest_first() {
        let html = markup(&config());
        let mut at = 0;
        for kind in IntegrationKind::ALL {
            let info = kind.info();
            let found = html[at..].find(&format!(r#"id="tl-kind-{}""#, info.id)).expect(info.id);
            at += found;
            assert!(html.contains(&esc(info.title)) && html.contains(&esc(info.best_for)));
            for item in info.setup_includes.iter().chain(info.risks) {
                assert!(html.contains(&esc(item)), "{item}");
            }
        }
        assert_eq!(html.matches("<button type=\"button\" id=\"tl-kind-").count(), 4);
        assert!(html.contains(r#"data-step="kind" data-tl-static"#));
        assert!(html.contains("Connect your AWS account to Acme"));
        assert!(html.contains("Recommended"));
    }

    #[test]
    fn text_is_escaped_and_a_single_kind_prepares_the_scope_step() {
        let one = Options {
            allowed_kinds: Some(vec!["sts".into()]),
            title: Some("A<b>&\"c\"".into()),
            ..options()
        };
        let html = markup(&Config::from_options(one, |_| "x0000".parse()).unwrap());
        assert!(html.contains("A&lt;b&gt;&amp;&quot;c&quot;") && !html.contains("<b>"));
        assert!(html.contains(r#"data-step="scope""#) && html.contains(PREPARING));
        assert!(!html.contains("tl-kind-"));
    }
}
