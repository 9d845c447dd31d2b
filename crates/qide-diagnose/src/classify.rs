//! Failure classes from plain text: infrastructure lines (OOM kills,
//! segfaults, DNS failures, full disks, missing commands, timeouts) and
//! keyword rules for messages that no tool-specific parser claimed.

use std::sync::LazyLock;

use aho_corasick::AhoCorasick;

use crate::Category;

/// What a plain infrastructure line says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InfraHit {
    pub(crate) category: Category,
    pub(crate) tool: &'static str,
}

/// Substrings that mark a line as an infrastructure failure, checked in
/// order; the first hit wins, so more specific phrases come first
/// ("Connection timed out" is a network failure, not a build timeout).
const INFRA_RULES: &[(&str, Category, &str)] = &[
    (
        "No space left on device",
        Category::Infrastructure,
        "system",
    ),
    ("Disk quota exceeded", Category::Infrastructure, "system"),
    ("Cannot allocate memory", Category::OutOfMemory, "system"),
    (
        "JavaScript heap out of memory",
        Category::OutOfMemory,
        "node",
    ),
    ("Out of memory", Category::OutOfMemory, "system"),
    ("out of memory", Category::OutOfMemory, "system"),
    ("std::bad_alloc", Category::OutOfMemory, "system"),
    ("SIGKILL", Category::OutOfMemory, "system"),
    ("Segmentation fault", Category::Crash, "system"),
    ("SIGSEGV", Category::Crash, "system"),
    ("core dumped", Category::Crash, "system"),
    ("SIGABRT", Category::Crash, "system"),
    ("SIGBUS", Category::Crash, "system"),
    ("Illegal instruction", Category::Crash, "system"),
    ("Could not resolve host", Category::Network, "network"),
    (
        "Temporary failure in name resolution",
        Category::Network,
        "network",
    ),
    ("Name or service not known", Category::Network, "network"),
    (
        "nodename nor servname provided",
        Category::Network,
        "network",
    ),
    ("Connection refused", Category::Network, "network"),
    ("Connection reset by peer", Category::Network, "network"),
    ("Connection timed out", Category::Network, "network"),
    ("etwork is unreachable", Category::Network, "network"),
    ("getaddrinfo ENOTFOUND", Category::Network, "network"),
    ("ECONNREFUSED", Category::Network, "network"),
    ("ECONNRESET", Category::Network, "network"),
    ("EAI_AGAIN", Category::Network, "network"),
    ("SSL certificate problem", Category::Network, "network"),
    ("Couldn't connect to server", Category::Network, "network"),
    ("Failed to connect to", Category::Network, "network"),
    ("Could not connect to", Category::Network, "network"),
    ("command not found", Category::ConfigError, "shell"),
    // Go's flag package, for a flag the program does not take.
    ("flag provided but not defined", Category::ConfigError, "go"),
    (
        "No output has been received in the last",
        Category::Timeout,
        "ci",
    ),
    (
        "exceeded the maximum execution time",
        Category::Timeout,
        "ci",
    ),
    ("timed out", Category::Timeout, "system"),
    ("Timed out", Category::Timeout, "system"),
    (
        "No matching distribution found for",
        Category::MissingDependency,
        "pip",
    ),
    (
        "Could not find a version that satisfies the requirement",
        Category::MissingDependency,
        "pip",
    ),
    ("npm ERR! 404", Category::MissingDependency, "npm"),
    ("npm ERR! code E404", Category::MissingDependency, "npm"),
    ("npm error 404", Category::MissingDependency, "npm"),
    ("npm error code E404", Category::MissingDependency, "npm"),
    ("ERR_PNPM_FETCH_404", Category::MissingDependency, "pnpm"),
    (
        "Unable to locate package",
        Category::MissingDependency,
        "apt",
    ),
    ("Cannot find module '", Category::MissingDependency, "node"),
    ("Permission denied", Category::Infrastructure, "system"),
];

/// Classifies a line that no structured parser took, or returns `None`
/// when it is not an infrastructure failure.
pub(crate) fn infra_line(line: &str) -> Option<InfraHit> {
    let trimmed = line.trim();
    // CI services echo the commands they run (`$ timeout 35m ./build.sh`);
    // a command line is not its outcome.
    if trimmed.starts_with("$ ") {
        return None;
    }
    // `bash: line 1:  4242 Killed   cargo build` or a lone `Killed`: the
    // kernel's OOM killer is by far the most common sender of SIGKILL.
    if trimmed == "Killed" || has!(trimmed, " Killed ") || trimmed.ends_with(" Killed") {
        return Some(InfraHit {
            category: Category::OutOfMemory,
            tool: "system",
        });
    }
    // dash prints `sh: 1: foo: not found` for a missing command.
    if trimmed.ends_with(": not found")
        && (trimmed.starts_with("sh: ") || trimmed.starts_with("/bin/sh: "))
    {
        return Some(InfraHit {
            category: Category::ConfigError,
            tool: "shell",
        });
    }
    // Most lines hold no rule: a leftmost search, which runs on the SIMD
    // prefilter, rules them out before the overlapping scan, which cannot.
    if !INFRA_ANY.is_match(trimmed) {
        return None;
    }
    // One pass finds every rule that occurs; the earliest rule wins.
    let rule = INFRA_SCAN
        .find_overlapping_iter(trimmed)
        .map(|m| m.pattern().as_usize())
        .min()?;
    let (_, category, tool) = INFRA_RULES[rule];
    // "0 timed out" in a test summary is not a timeout.
    if category == Category::Timeout && timed_out_is_count(trimmed) {
        return None;
    }
    Some(InfraHit { category, tool })
}

static INFRA_ANY: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasick::builder()
        .match_kind(aho_corasick::MatchKind::LeftmostFirst)
        .build(INFRA_RULES.iter().map(|r| r.0))
        // Reason: literal patterns always build.
        .expect("valid rules")
});

static INFRA_SCAN: LazyLock<AhoCorasick> = LazyLock::new(|| {
    // Reason: literal patterns always build.
    AhoCorasick::new(INFRA_RULES.iter().map(|r| r.0)).expect("valid rules")
});

fn timed_out_is_count(line: &str) -> bool {
    line.contains("0 timed out") || line.contains(" passed") || line.contains(" ok")
}

/// Guesses a category from an error message that carries no better signal.
pub(crate) fn message_category(message: &str) -> Option<Category> {
    if let Some(hit) = infra_line(message) {
        return Some(hit.category);
    }
    let lower = message.to_ascii_lowercase();
    const MISSING: &[&str] = &[
        "no module named",
        "no matching package",
        "failed to select a version",
        "cannot find package",
        "no required module provides package",
        "cannot find module",
        "could not find crate",
        "can't find crate",
        "unable to find library",
        "library not found for",
        "cannot find -l",
        "unresolved dependency",
        "could not resolve dependencies",
        "could not find artifact",
        "failed to get `",
        "no such file or directory",
    ];
    const SYNTAX: &[&str] = &[
        "syntax error",
        "invalid syntax",
        "unexpected token",
        "parse error",
        "unexpected end of",
    ];
    if MISSING.iter().any(|m| lower.contains(m)) {
        return Some(Category::MissingDependency);
    }
    if SYNTAX.iter().any(|m| lower.contains(m)) {
        return Some(Category::SyntaxError);
    }
    if lower.contains("linking with")
        || lower.contains("undefined reference")
        || lower.contains("linker")
    {
        return Some(Category::CompileError);
    }
    None
}

/// How strongly a root cause's category explains the whole failure: when a
/// log has several, the highest rank names the build's category.
///
/// Killed-from-outside classes come first because everything printed after
/// them is their consequence; a missing dependency or a syntax error comes
/// before the type errors it causes; tests only run when the build passed.
pub(crate) fn rank(category: Category) -> u8 {
    match category {
        Category::OutOfMemory => 12,
        Category::Timeout => 11,
        Category::Network => 10,
        Category::Infrastructure => 9,
        Category::MissingDependency => 8,
        Category::SyntaxError => 7,
        Category::CompileError => 6,
        Category::TestFailure => 5,
        Category::Crash => 4,
        Category::ConfigError => 3,
        Category::Lint => 2,
        Category::Unknown => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infra_lines() {
        let cat = |l: &str| infra_line(l).map(|h| h.category);
        assert_eq!(
            cat("bash: line 1:  4242 Killed                  cargo build"),
            Some(Category::OutOfMemory)
        );
        assert_eq!(cat("Killed"), Some(Category::OutOfMemory));
        assert_eq!(cat("sh: 1: foo: not found"), Some(Category::ConfigError));
        assert_eq!(
            cat("bash: foo: command not found"),
            Some(Category::ConfigError)
        );
        assert_eq!(
            cat("curl: (6) Could not resolve host: example.invalid"),
            Some(Category::Network)
        );
        assert_eq!(
            cat("ssh: connect to host x port 22: Connection timed out"),
            Some(Category::Network)
        );
        assert_eq!(
            cat("Build timed out (after 60 minutes). Marking the build as failed."),
            Some(Category::Timeout)
        );
        assert_eq!(
            cat("test result: ok. 3 passed; 0 failed; 0 timed out"),
            None
        );
        assert_eq!(
            cat("Segmentation fault (core dumped)"),
            Some(Category::Crash)
        );
        assert_eq!(cat("the skilled worker"), None);
        assert_eq!(cat("everything fine"), None);
    }
}
