//! Detectors for secrets that no configuration names: cloud and service
//! keys and tokens, private key blocks, JWTs, passwords in URLs and
//! `password=`-style assignments. Their values are masked before a log line
//! (or a report) is stored.
//!
//! A case-insensitive keyword scan over the whole text comes first; only the
//! lines it hits are searched with the regular expressions, so ordinary
//! output costs one pass.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::LazyLock;

use aho_corasick::AhoCorasick;
use regex::{Regex, RegexSet};

use crate::redact::MASK;

/// One kind of secret: where it is, and which capture group to mask.
struct Rule {
    re: Regex,
    group: usize,
}

/// Strings one of which every detectable secret's line contains. They are
/// matched case-sensitively (which keeps the set small enough for the
/// searcher's SIMD prefilter, Teddy): a word appears in its lower-case,
/// capitalised and upper-case forms, or as a tail all of them share.
///
/// Teddy finds candidates by their first three bytes, and every candidate
/// whose marker then does not follow costs a check, so each marker is the
/// part of what its rule needs that starts with three bytes rare in build
/// logs: `BEGIN`, not `-----BEGIN` (dashes open every separator line);
/// `sword`, not `assword` (`class`, `assert`, `passed`); `toke`, not `oken`
/// (`broken`, `invoked`); `s_key`, not `ccess_key` (`success`);
/// `b_pat_`, not `github_pat_`.
const MARKERS: &[&str] = &[
    "AKIA",
    "ASIA",
    "AIza",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "b_pat_",
    "glpat-",
    "xox",
    ".slack.",
    "k_live_",
    "k_test_",
    "pm_",
    "tKey=",
    "TKEY=",
    "tkey=",
    "dAccessS",
    "BEGIN",
    "eyJ",
    "://",
    "sword",
    "SWORD",
    "sswd",
    "SSWD",
    "pwd",
    "Pwd",
    "PWD",
    "ecret",
    "ECRET",
    "toke",
    "Toke",
    "TOKE",
    "bearer",
    "Bearer",
    "BEARER",
    "i_key",
    "I_KEY",
    "pikey",
    "PIKEY",
    "piKey",
    "i-key",
    "I-KEY",
    "s_key",
    "S_KEY",
    "e_key",
    "E_KEY",
    "SG.",
    "sk-",
    "dop_v1_",
    "hf_",
    "-AgEIcHlw",
    "dckr_pat_",
    "shpat_",
    "sq0atp-",
    "ey-",
];

/// Leftmost-first: only with leftmost semantics does the automaton search
/// with its SIMD prefilter (Teddy), and any hit on a line will do.
static MARKER_SCAN: LazyLock<Option<AhoCorasick>> = LazyLock::new(|| {
    AhoCorasick::builder()
        .match_kind(aho_corasick::MatchKind::LeftmostFirst)
        .build(MARKERS)
        .ok()
});

static RULE_SET: LazyLock<Option<RegexSet>> =
    LazyLock::new(|| RegexSet::new(RULES.iter().map(|r| r.re.as_str())).ok());

static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    let rules: &[(&str, usize)] = &[
        // Cloud providers.
        (r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", 0),
        (r"\bAIza[0-9A-Za-z_-]{35}\b", 0),
        (r"(?i)\bAccountKey=([A-Za-z0-9+/=]{40,})", 1),
        (r"(?i)\bSharedAccessSignature=([^\s;]{20,})", 1),
        (r"\bdop_v1_[a-f0-9]{64}\b", 0),
        // Code hosts and registries.
        (r"\bgh[pousr]_[A-Za-z0-9]{36,255}\b", 0),
        (r"\bgithub_pat_[A-Za-z0-9_]{22,255}\b", 0),
        (r"\bglpat-[A-Za-z0-9_-]{20,}\b", 0),
        (r"\bnpm_[A-Za-z0-9]{36}\b", 0),
        (r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}", 0),
        (r"\bdckr_pat_[A-Za-z0-9_-]{20,}\b", 0),
        (r"\bhf_[A-Za-z]{34}\b", 0),
        // Chat, payments, mail, model APIs.
        (r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b", 0),
        (r"https://hooks\.slack\.com/services/[A-Za-z0-9/]+", 0),
        (r"\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}\b", 0),
        (r"\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b", 0),
        (r"\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{20,}\b", 0),
        (r"\bshpat_[a-fA-F0-9]{32}\b", 0),
        (r"\bsq0atp-[0-9A-Za-z_-]{22}\b", 0),
        (r"\bkey-[0-9a-zA-Z]{32}\b", 0),
        // Generic forms.
        (
            r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
            0,
        ),
        (r"(?i)\b[a-z][a-z0-9+.-]*://[^/\s:@]+:([^@\s/]+)@", 1),
        (r"(?i)\bbearer\s+([A-Za-z0-9._~+/-]{16,}=*)", 1),
        (
            r#"(?i)\b[a-z0-9_.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key)[a-z0-9_.-]*["']?\s*[:=]\s*["']?([^\s"',;]{6,})"#,
            1,
        ),
        (r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----", 0),
    ];
    rules
        .iter()
        .map(|(pattern, group)| {
            // ASCII word boundaries: a Unicode `\b` sends the set's search
            // from the lazy DFA to the far slower PikeVM on every line, and
            // no secret here is made of non-ASCII letters.
            (pattern.replace(r"\b", r"(?-u:\b)"), group)
        })
        .filter_map(|(pattern, group)| match Regex::new(&pattern) {
            Ok(re) => Some(Rule { re, group: *group }),
            Err(e) => {
                tracing::error!(%e, pattern, "a secret detector does not compile");
                None
            }
        })
        .collect()
});

/// True for a line that looks like the body of a PEM block: 64 base64
/// characters with both upper- and lower-case letters (a hex digest has no
/// upper case).
fn pem_body(line: &str) -> bool {
    line.len() == 64
        && line
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
        && line.bytes().any(|b| b.is_ascii_uppercase())
        && line.bytes().any(|b| b.is_ascii_lowercase())
}

/// The byte range of the line holding `at`.
fn line_of(text: &str, at: usize) -> Range<usize> {
    let bytes = text.as_bytes();
    let start = memchr::memrchr(b'\n', &bytes[..at]).map_or(0, |i| i + 1);
    let end = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |i| at + i);
    start..end
}

/// One line with every detected secret masked.
fn mask_line(line: &str) -> Cow<'_, str> {
    if pem_body(line.trim_end()) {
        return Cow::Borrowed(MASK);
    }
    let applicable: Vec<usize> = match RULE_SET.as_ref() {
        Some(set) => set.matches(line).into_iter().collect(),
        None => (0..RULES.len()).collect(),
    };
    let mut out = Cow::Borrowed(line);
    for rule in applicable.iter().filter_map(|&i| RULES.get(i)) {
        if !rule.re.is_match(&out) {
            continue;
        }
        let replaced = rule.re.replace_all(&out, |caps: &regex::Captures<'_>| {
            let whole = caps.get(0).map_or("", |m| m.as_str());
            match caps.get(rule.group) {
                Some(secret) if rule.group > 0 => {
                    let start = secret.start() - caps.get(0).map_or(0, |m| m.start());
                    format!(
                        "{}{MASK}{}",
                        &whole[..start],
                        &whole[start + secret.len()..]
                    )
                }
                _ => MASK.to_owned(),
            }
        });
        out = Cow::Owned(replaced.into_owned());
    }
    out
}

/// `text` (one or more lines) with detected secrets masked.
pub(crate) fn mask(text: &str) -> Cow<'_, str> {
    let mut lines: Vec<Range<usize>> = Vec::new();
    if let Some(scan) = MARKER_SCAN.as_ref() {
        for hit in scan.find_iter(text) {
            if lines.last().is_some_and(|r| hit.start() < r.end) {
                continue;
            }
            // Most marked lines are URLs, and a URL holds a password only
            // with an `@` after its `://`; a line without one is looked at
            // only if another marker follows on it.
            if MARKERS[hit.pattern().as_usize()] == "://"
                && memchr::memchr2(b'@', b'\n', &text.as_bytes()[hit.end()..])
                    .is_none_or(|i| text.as_bytes()[hit.end() + i] == b'\n')
            {
                continue;
            }
            lines.push(line_of(text, hit.start()));
        }
    }
    // PEM bodies carry no marker: look at every 64-byte line.
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', text.as_bytes()).chain(std::iter::once(text.len())) {
        if end - start == 64 && pem_body(&text[start..end]) {
            lines.push(start..end);
        }
        start = end + 1;
    }
    if lines.is_empty() {
        return Cow::Borrowed(text);
    }
    lines.sort_by_key(|r| r.start);
    lines.dedup();
    // Nearly every block holds a marker (a URL, a word ending in "token")
    // and nearly none a secret: the text is copied only once a line
    // actually changes, from there on.
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut done = 0;
    for range in lines {
        if range.start < done {
            continue;
        }
        done = range.end;
        let line = &text[range.clone()];
        let masked = mask_line(line);
        if masked == line {
            continue;
        }
        let out = out.get_or_insert_with(|| String::with_capacity(text.len()));
        out.push_str(&text[copied..range.start]);
        out.push_str(&masked);
        copied = range.end;
    }
    match out {
        Some(mut out) => {
            out.push_str(&text[copied..]);
            Cow::Owned(out)
        }
        None => Cow::Borrowed(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Secrets of every kind the detectors know, as they appear in logs.
    /// Built from pieces so the source holds no literal secret.
    pub(crate) fn planted() -> Vec<(String, String)> {
        let r = |n: usize, c: char| std::iter::repeat_n(c, n).collect::<String>();
        vec![
            ("aws key".into(), format!("AKIA{}", "IOSFODNN7EXAMPLE")),
            ("google key".into(), format!("AIza{}", r(35, 'x'))),
            (
                "azure".into(),
                format!("DefaultEndpointsProtocol=https;AccountKey={}==", r(60, 'A')),
            ),
            ("github".into(), format!("ghp_{}", r(36, 'a'))),
            ("github pat".into(), format!("github_pat_{}", r(40, 'b'))),
            ("gitlab".into(), format!("glpat-{}", r(20, 'c'))),
            ("npm".into(), format!("npm_{}", r(36, 'd'))),
            (
                "slack".into(),
                format!("xoxb-{}-{}", r(12, '1'), r(24, 'e')),
            ),
            (
                "slack hook".into(),
                format!(
                    "https://hooks.slack.com/services/T{}/B{}/{}",
                    r(8, 'F'),
                    r(8, 'G'),
                    r(24, 'h')
                ),
            ),
            ("stripe".into(), format!("sk_live_{}", r(24, 'i'))),
            (
                "sendgrid".into(),
                format!("SG.{}.{}", r(22, 'j'), r(43, 'k')),
            ),
            ("openai".into(), format!("sk-proj-{}", r(40, 'l'))),
            ("anthropic".into(), format!("sk-ant-{}", r(40, 'm'))),
            ("digitalocean".into(), format!("dop_v1_{}", r(64, 'a'))),
            ("huggingface".into(), format!("hf_{}", r(34, 'n'))),
            ("docker".into(), format!("dckr_pat_{}", r(27, 'o'))),
            (
                "jwt".into(),
                format!("eyJ{}.eyJ{}.{}", r(20, 'p'), r(30, 'q'), r(40, 'r')),
            ),
            (
                "url password".into(),
                format!(
                    "https://deploy:{}@registry.example.com/v2",
                    "hunter2hunter2"
                ),
            ),
            (
                "bearer".into(),
                format!("Authorization: Bearer {}", r(32, 's')),
            ),
            (
                "assignment".into(),
                format!("DB_PASSWORD={}", "correct-horse-battery"),
            ),
            (
                "yaml secret".into(),
                format!("client_secret: \"{}\"", "s3cr3t-v4lu3-xyz"),
            ),
            (
                "pem".into(),
                format!(
                    "-----BEGIN RSA PRIVATE KEY-----\nMIIE{}\n{}\n-----END RSA PRIVATE KEY-----",
                    "pAIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgHcTz6sE2I2yPB",
                    "aDZzJ3zdu3x9G8wbVkI0mYQbQ4kvQ1pVJ0Ew2fGvPMHpvZgq5kyYzN+S7tlWcs9u"
                ),
            ),
        ]
        .into_iter()
        .map(|(k, v): (String, String)| (k, v))
        .collect()
    }

    /// The part of a planted secret that must not survive masking.
    fn core(kind: &str, secret: &str) -> String {
        match kind {
            "url password" => "hunter2hunter2".to_owned(),
            "bearer" => secret
                .trim_start_matches("Authorization: Bearer ")
                .to_owned(),
            "assignment" => "correct-horse-battery".to_owned(),
            "yaml secret" => "s3cr3t-v4lu3-xyz".to_owned(),
            "azure" => secret
                .split("AccountKey=")
                .nth(1)
                .unwrap_or(secret)
                .to_owned(),
            "pem" => "pAIBAAKCAQEA0Z3VS5JJ".to_owned(),
            _ => secret.to_owned(),
        }
    }

    #[test]
    fn every_planted_kind_is_masked() {
        let planted = planted();
        assert!(planted.len() >= 20);
        for (kind, secret) in planted {
            let line = format!("step output: {secret} (end)");
            let masked = mask(&line);
            assert!(!masked.contains(&core(&kind, &secret)), "{kind}: {masked}");
            assert!(masked.contains(MASK), "{kind}: {masked}");
            assert!(
                masked.starts_with("step output: "),
                "{kind}: context is kept: {masked}"
            );
        }
    }

    #[test]
    fn assignments_are_masked_in_lower_capitalised_and_upper_case() {
        // The markers are case-sensitive: each form needs one.
        let words = [
            "password",
            "passwd",
            "pwd",
            "secret",
            "token",
            "api_key",
            "apikey",
            "api-key",
            "access_key",
            "private_key",
            "bearer_token",
            "github_token",
            "db_password",
        ];
        for word in words {
            let capitalised = format!("{}{}", word[..1].to_ascii_uppercase(), &word[1..]);
            for name in [word.to_owned(), capitalised, word.to_ascii_uppercase()] {
                let line = format!("export {name}=Zq8vWx3kLp0");
                let masked = mask(&line);
                assert_eq!(masked, format!("export {name}={MASK}"), "{name}");
            }
        }
        for header in [
            "Authorization: Bearer",
            "authorization: bearer",
            "AUTHORIZATION: BEARER",
        ] {
            let line = format!("{header} Zq8vWx3kLp0aB7cD9eF1");
            assert!(!mask(&line).contains("Zq8vWx3kLp0aB7cD9eF1"), "{line}");
        }
    }

    #[test]
    fn a_secret_after_a_url_on_the_same_line_is_masked() {
        // URLs are the commonest marker and are passed over without an `@`
        // after them; what follows them on the line is still looked at.
        for (kind, secret) in planted() {
            let text = format!(
                "Downloading https://example.com/pkg.tar.gz\n\
                 fetched https://example.com/a then {secret} (end)\n\
                 mirror ftp://mirror.example.org/x ok\n"
            );
            let masked = mask(&text);
            assert!(!masked.contains(&core(&kind, &secret)), "{kind}: {masked}");
            assert!(
                masked.starts_with("Downloading https://example.com/pkg.tar.gz\nfetched "),
                "{kind}: {masked}"
            );
            assert!(masked.ends_with("\nmirror ftp://mirror.example.org/x ok\n"));
        }
        // A password in a URL is masked whichever lines come before it.
        let text =
            "see https://example.com/docs\nclone https://ci:s3cretPassw0rd@git.example.com/r.git\n";
        let masked = mask(text);
        assert!(!masked.contains("s3cretPassw0rd"), "{masked}");
        assert!(masked.starts_with("see https://example.com/docs\nclone https://ci:"));
    }

    #[test]
    fn ordinary_output_is_left_alone() {
        let text = "Compiling serde v1.0.200\n   Finished `dev` profile in 3.2s\n\
                    token budget 2000 used by the packet\nsha256 = 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n";
        assert_eq!(mask(text), text);
    }
}
