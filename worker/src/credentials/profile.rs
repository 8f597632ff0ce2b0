//! The shared `config` and `credentials` files (`~/.aws/…`), read the way the AWS SDKs read
//! them: `[default]` or `[profile NAME]` in config, `[NAME]` in credentials, credentials file
//! winning for keys.

use std::collections::HashMap;
use std::path::PathBuf;

/// One profile's settings (lower-case keys).
pub(super) type Profile = HashMap<String, String>;

/// Parses an INI-style AWS file into sections. Nested service sections (indented lines under
/// `s3 =`) are skipped; comments start with `#` or `;`.
pub(super) fn parse(text: &str, config_style: bool) -> HashMap<String, Profile> {
    let mut out: HashMap<String, Profile> = HashMap::new();
    let mut current: Option<String> = None;
    for raw in text.lines() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(section) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let section = section.trim();
            current = if config_style {
                match section.strip_prefix("profile ") {
                    Some(name) => Some(name.trim().to_owned()),
                    None if section == "default" => Some("default".to_owned()),
                    None => None, // sso-session, services…: not credentials
                }
            } else {
                Some(section.to_owned())
            };
            continue;
        }
        if raw.starts_with(' ') || raw.starts_with('\t') {
            continue; // a nested sub-setting
        }
        if let (Some(name), Some((k, v))) = (&current, line.split_once('=')) {
            let value = v.trim();
            if !value.is_empty() {
                out.entry(name.clone()).or_default().insert(k.trim().to_ascii_lowercase(), value.to_owned());
            }
        }
    }
    out
}

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME").map(PathBuf::from)
}

/// Every profile from the config and credentials files (paths from `AWS_CONFIG_FILE` and
/// `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/config` and `~/.aws/credentials`).
pub(super) fn load_all() -> HashMap<String, Profile> {
    let config = std::env::var_os("AWS_CONFIG_FILE")
        .map(PathBuf::from)
        .or_else(|| home().map(|h| h.join(".aws/config")));
    let creds = std::env::var_os("AWS_SHARED_CREDENTIALS_FILE")
        .map(PathBuf::from)
        .or_else(|| home().map(|h| h.join(".aws/credentials")));
    let mut profiles =
        config.and_then(|p| std::fs::read_to_string(p).ok()).map(|t| parse(&t, true)).unwrap_or_default();
    if let Some(text) = creds.and_then(|p| std::fs::read_to_string(p).ok()) {
        for (name, settings) in parse(&text, false) {
            profiles.entry(name).or_default().extend(settings);
        }
    }
    profiles
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_file_styles() {
        let config = "[default]\nregion = eu-west-1\n[profile vendor]\nrole_arn = arn:aws:iam::111122223333:role/Worker\nsource_profile = base\nexternal_id = abc\ns3 =\n  max_concurrent_requests = 20\n[sso-session x]\nsso_region = us-east-1\n";
        let creds = "# keys\n[base]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = secret\n";
        let config = parse(config, true);
        let creds = parse(creds, false);
        assert_eq!(config["vendor"]["external_id"], "abc");
        assert!(!config["vendor"].contains_key("max_concurrent_requests"));
        assert!(!config.contains_key("sso-session x") && !config.contains_key("x"));
        assert_eq!(config["default"]["region"], "eu-west-1");
        assert_eq!(creds["base"]["aws_access_key_id"], "AKIAEXAMPLE");
    }
}
