//! Masking of secrets in log lines before they are stored: the values of
//! secret-looking environment variables given to a build, the literal
//! `redact` entries of `qide.toml`, and what the detectors of
//! [`crate::secrets`] recognise (keys, tokens, private keys, passwords).

use std::borrow::Cow;
use std::collections::BTreeMap;

/// What a masked secret becomes.
pub const MASK: &str = "[redacted]";

/// Name fragments that mark an environment variable's value as secret.
const SECRET_NAME_PARTS: &[&str] = &[
    "TOKEN",
    "SECRET",
    "PASSWORD",
    "PASSWD",
    "PASS",
    "API_KEY",
    "APIKEY",
    "PRIVATE",
    "CREDENTIAL",
    "AUTH",
    "_KEY",
    "SESSION",
    "COOKIE",
    "DSN",
];

/// Values shorter than this are not masked: they would mask ordinary text.
const MIN_SECRET_LEN: usize = 6;

/// Replaces known secret values in text.
#[derive(Debug, Default, Clone)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    /// A redactor for the secret-looking variables of `env` plus the literal
    /// `extra` strings.
    pub fn new<'a>(
        env: impl IntoIterator<Item = (&'a String, &'a String)>,
        extra: &[String],
    ) -> Redactor {
        let whole: Vec<String> = env
            .into_iter()
            .filter(|(name, _)| is_secret_name(name))
            .map(|(_, value)| value.clone())
            .chain(extra.iter().cloned())
            .collect();
        // A value of several lines (a PEM key in a variable) is masked
        // whole where it is printed whole, and line by line too: the lines
        // of a log are read and stored in pieces (a pipe read can end
        // between two of its lines), and each line must not leak either.
        let lines: Vec<String> = whole
            .iter()
            .filter(|v| v.contains('\n'))
            .flat_map(|v| v.lines().map(|l| l.trim_end_matches('\r').to_string()))
            .collect();
        let mut secrets: Vec<String> = whole
            .into_iter()
            .chain(lines)
            .filter(|v| v.trim().len() >= MIN_SECRET_LEN)
            .collect();
        // Longest first, so a secret that contains another is masked whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Redactor { secrets }
    }

    /// A redactor over the process environment and `env`.
    pub fn for_build(env: &BTreeMap<String, String>, extra: &[String]) -> Redactor {
        let inherited: BTreeMap<String, String> = std::env::vars().collect();
        Redactor::new(inherited.iter().chain(env.iter()), extra)
    }

    /// `text` with every secret masked: the known values, then what the
    /// detectors recognise.
    pub fn redact<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let out = self.redact_known(text);
        match crate::secrets::mask(&out) {
            Cow::Borrowed(_) => out,
            Cow::Owned(masked) => Cow::Owned(masked),
        }
    }

    /// `text` with the known secret values masked (environment values and
    /// `redact` entries), without the detectors.
    pub fn redact_known<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let mut out = Cow::Borrowed(text);
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = Cow::Owned(out.replace(secret.as_str(), MASK));
            }
        }
        out
    }
}

pub(crate) fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    SECRET_NAME_PARTS.iter().any(|part| upper.contains(part))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_secret_env_values_and_literals_only() {
        let env: BTreeMap<String, String> = [
            ("GITHUB_TOKEN".to_owned(), "ghp_abcdefghijklmnop".to_owned()),
            ("HOME".to_owned(), "/home/someone".to_owned()),
            ("DB_PASSWORD".to_owned(), "abc".to_owned()),
        ]
        .into();
        let r = Redactor::new(env.iter(), &["hunter22".to_owned()]);
        assert_eq!(
            r.redact("push with ghp_abcdefghijklmnop from /home/someone as hunter22 abc"),
            "push with [redacted] from /home/someone as [redacted] abc"
        );
    }

    #[test]
    fn masks_each_line_of_a_value_of_several_lines() {
        let key = "-----BEGIN OPENSSH PRIVATE KEY-----\r\nb3BlbnNzaC1rZXktdjEAAAAA\nQyNTUxOQAAACD4\n-----END OPENSSH PRIVATE KEY-----";
        let env: BTreeMap<String, String> = [("DEPLOY_KEY".to_owned(), key.to_owned())].into();
        let r = Redactor::new(env.iter(), &[]);
        // Printed whole, it is one mask.
        assert_eq!(r.redact_known(&format!("key: {key}")), "key: [redacted]");
        // Printed (or read) a line at a time, every line is masked.
        for line in key.lines() {
            let line = line.trim_end_matches('\r');
            assert_eq!(
                r.redact_known(&format!("> {line}")),
                "> [redacted]",
                "{line}"
            );
        }
        // Lines shorter than a secret's minimum stay as they are.
        let env: BTreeMap<String, String> =
            [("API_TOKEN".to_owned(), "abcdefgh\nok".to_owned())].into();
        let r = Redactor::new(env.iter(), &[]);
        assert_eq!(r.redact_known("abcdefgh then ok"), "[redacted] then ok");
    }
}
