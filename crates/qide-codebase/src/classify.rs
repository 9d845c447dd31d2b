//! What role a file plays, by its path: secret, lock file, key file, test,
//! entry point.
//!
//! Every function here takes the `/`-separated path relative to the root and
//! looks at names only, never at content.

/// Whether the file may hold secrets. Such files are listed with their size
/// only: never read, previewed, packed into key files or served.
///
/// Matches on the file name, case-insensitively: `.env*`, `*.pem`, `*.key`,
/// `*.p12`, `*.pfx`, `*.jks`, `*.keystore`, `id_rsa*`, `id_dsa*`,
/// `id_ecdsa*`, `id_ed25519*`, `credentials*`, `.npmrc`, `.pypirc`, `.netrc`,
/// `_netrc`, `.git-credentials`. Anything under a directory named `.env*`,
/// `.ssh`, `.aws` or `.gnupg` counts too.
pub fn is_secret(rel: &str) -> bool {
    // Compared without lowering a copy of each component: this runs for
    // every walked file.
    let (dirs, name) = rel.rsplit_once('/').unwrap_or(("", rel));
    let secret_dir = |dir: &str| {
        starts_with_ignore_case(dir, ".env")
            || [".ssh", ".aws", ".gnupg"]
                .iter()
                .any(|d| dir.eq_ignore_ascii_case(d))
    };
    (!dirs.is_empty() && dirs.split('/').any(secret_dir)) || is_secret_file_name(name)
}

fn is_secret_file_name(name: &str) -> bool {
    const PREFIXES: &[&str] = &[
        ".env",
        "id_rsa",
        "id_dsa",
        "id_ecdsa",
        "id_ed25519",
        "credentials",
    ];
    const SUFFIXES: &[&str] = &[".pem", ".key", ".p12", ".pfx", ".jks", ".keystore"];
    const NAMES: &[&str] = &[".npmrc", ".pypirc", ".netrc", "_netrc", ".git-credentials"];
    PREFIXES.iter().any(|p| starts_with_ignore_case(name, p))
        || SUFFIXES.iter().any(|s| ends_with_ignore_case(name, s))
        || NAMES.iter().any(|n| name.eq_ignore_ascii_case(n))
}

/// `text.starts_with(prefix)`, ASCII letters compared case-insensitively.
fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.as_bytes()
        .get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
}

/// `text.ends_with(suffix)`, ASCII letters compared case-insensitively.
fn ends_with_ignore_case(text: &str, suffix: &str) -> bool {
    text.len() >= suffix.len()
        && text.as_bytes()[text.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
}

/// Whether the file is a dependency lock file: listed, but too long and too
/// mechanical to be worth a model's attention in key files or previews.
pub fn is_lock_file(rel: &str) -> bool {
    matches!(
        file_name(rel),
        "Cargo.lock"
            | "package-lock.json"
            | "npm-shrinkwrap.json"
            | "yarn.lock"
            | "pnpm-lock.yaml"
            | "bun.lockb"
            | "poetry.lock"
            | "Pipfile.lock"
            | "uv.lock"
            | "go.sum"
            | "Gemfile.lock"
            | "composer.lock"
            | "flake.lock"
    )
}

/// Whether the file describes how the project is built, packaged or run, so
/// that a model should see it whole (up to a size limit).
pub(crate) fn is_key_file(rel: &str) -> bool {
    if is_secret(rel) || is_lock_file(rel) {
        return false;
    }
    if let Some(workflow) = rel.strip_prefix(".github/workflows/") {
        return !workflow.contains('/')
            && (workflow.ends_with(".yml") || workflow.ends_with(".yaml"));
    }
    let name = file_name(rel);
    if name.starts_with("requirements") && name.ends_with(".txt") {
        return true;
    }
    matches!(
        name,
        "Cargo.toml"
            | "rust-toolchain.toml"
            | "package.json"
            | "tsconfig.json"
            | "pyproject.toml"
            | "setup.py"
            | "setup.cfg"
            | "go.mod"
            | "go.work"
            | "pom.xml"
            | "build.gradle"
            | "build.gradle.kts"
            | "settings.gradle"
            | "settings.gradle.kts"
            | "Makefile"
            | "CMakeLists.txt"
            | "Dockerfile"
            | "docker-compose.yml"
            | "docker-compose.yaml"
            | "compose.yml"
            | "compose.yaml"
            | "Gemfile"
            | "composer.json"
            | "Package.swift"
            | "qide.toml"
    )
}

/// Whether the file is a test, by directory (`tests/`, `test/`,
/// `__tests__/`, `spec/`) or by naming convention (`*_test.go`,
/// `test_*.py`, `*.test.ts`, `*Test.java`…).
pub(crate) fn is_test(rel: &str) -> bool {
    let (dirs, name) = match rel.rsplit_once('/') {
        Some((dirs, name)) => (dirs, name),
        None => ("", rel),
    };
    if dirs
        .split('/')
        .any(|d| matches!(d, "tests" | "test" | "__tests__" | "spec" | "testing"))
    {
        return true;
    }
    let Some((stem, extension)) = name.rsplit_once('.') else {
        return false;
    };
    match extension {
        "py" => stem.starts_with("test_") || stem.ends_with("_test") || stem == "conftest",
        "go" | "c" | "cc" | "cpp" | "exs" | "rb" => {
            stem.ends_with("_test") || stem.ends_with("_spec")
        }
        "ts" | "tsx" | "js" | "jsx" | "mjs" | "cjs" | "mts" => {
            stem.ends_with(".test") || stem.ends_with(".spec")
        }
        "java" | "kt" | "cs" | "scala" | "swift" => {
            stem.ends_with("Test") || stem.ends_with("Tests") || stem.ends_with("Spec")
        }
        "rs" => stem == "tests",
        _ => false,
    }
}

/// Names of files that usually are where a program starts, most telling
/// first.
const ENTRY_POINT_NAMES: &[&str] = &[
    "main.rs",
    "lib.rs",
    "main.py",
    "app.py",
    "__main__.py",
    "manage.py",
    "server.py",
    "wsgi.py",
    "asgi.py",
    "main.go",
    "index.ts",
    "index.tsx",
    "main.ts",
    "main.tsx",
    "App.tsx",
    "app.ts",
    "server.ts",
    "index.js",
    "index.jsx",
    "main.js",
    "App.jsx",
    "app.js",
    "server.js",
    "App.vue",
    "Main.java",
    "Application.java",
    "Main.kt",
    "Application.kt",
    "Program.cs",
    "main.c",
    "main.cpp",
    "main.swift",
    "main.rb",
    "app.rb",
    "index.php",
    "main.dart",
];

/// How likely the file is to be an entry point: `None` if it is not one,
/// otherwise a key where smaller sorts first (shallower paths first, then
/// the order of [`ENTRY_POINT_NAMES`]). Tests are never entry points.
pub(crate) fn entry_point_rank(rel: &str) -> Option<(usize, usize)> {
    let name = file_name(rel);
    let index = ENTRY_POINT_NAMES.iter().position(|n| *n == name)?;
    if is_test(rel) {
        return None;
    }
    let depth = rel.matches('/').count();
    // `src/main.rs` is as prominent as a top-level `main.py`.
    let depth = match rel.split_once('/') {
        Some(("src" | "cmd" | "app", _)) => depth - 1,
        _ => depth,
    };
    Some((depth, index))
}

/// The last component of a `/`-separated path.
pub(crate) fn file_name(rel: &str) -> &str {
    rel.rsplit_once('/').map_or(rel, |(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_matched_case_insensitively_by_name_and_by_directory() {
        for secret in [
            ".env",
            ".ENV.local",
            "config/Server.PEM",
            "deploy/ID_RSA.pub",
            "Credentials.json",
            "home/.NPMRC",
            ".Ssh/config",
            "a/.env.d/settings.toml",
            "x/.AWS/y/z.txt",
            // Any directory whose name starts with `.env`, as before.
            "src/.envelope/x.rs",
        ] {
            assert!(is_secret(secret), "{secret} is a secret");
        }
        for plain in [
            "src/env.rs",
            "pem",
            "keys/public.txt",
            "docs/ssh.md",
            "monkey",
            "",
        ] {
            assert!(!is_secret(plain), "{plain} is not a secret");
        }
        assert_eq!(entry_point_rank("src/main.rs"), Some((0, 0)));
        assert_eq!(entry_point_rank("tests/main.rs"), None);
    }
}
