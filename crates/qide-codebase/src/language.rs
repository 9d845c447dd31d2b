//! Languages, recognised by file name and extension.
//!
//! Recognition is by name alone, never by content, so it is cheap enough to
//! run on every file of a large tree. Ambiguous extensions take the common
//! reading: `.h` is C, `.m` is Objective-C.

/// What a language is used for, which decides whether its files are worth
/// previewing and whether they say something about the project's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Code that runs on a server or natively: Rust, Python, Go, Java…
    Backend,
    /// Code that runs in a browser: TypeScript/JavaScript are counted here
    /// only through their component extensions (`.tsx`, `.vue`…).
    Frontend,
    /// Pages and style sheets: a sign of a front end, but not worth a
    /// preview.
    Markup,
    /// General-purpose code that may run anywhere (JavaScript, TypeScript,
    /// shell, SQL).
    Code,
    /// Prose, configuration and data: Markdown, TOML, YAML, JSON…
    Data,
}

/// The language of a file, by its name.
pub(crate) fn detect(file_name: &str) -> Option<(&'static str, Kind)> {
    if let Some(found) = by_file_name(file_name) {
        return Some(found);
    }
    let (_, extension) = file_name.rsplit_once('.')?;
    // `.bashrc` has no extension, only a hidden name.
    let hidden_without_extension = file_name.starts_with('.') && !file_name[1..].contains('.');
    if extension.is_empty() || hidden_without_extension {
        return None;
    }
    by_extension(&extension.to_ascii_lowercase())
}

fn by_file_name(name: &str) -> Option<(&'static str, Kind)> {
    use Kind::*;
    Some(match name {
        "Makefile" | "makefile" | "GNUmakefile" => ("Makefile", Data),
        "Dockerfile" | "Containerfile" => ("Dockerfile", Data),
        "CMakeLists.txt" => ("CMake", Data),
        "Rakefile" | "Gemfile" => ("Ruby", Backend),
        "Jenkinsfile" => ("Groovy", Data),
        _ if name.starts_with("Dockerfile.") => ("Dockerfile", Data),
        _ => return None,
    })
}

fn by_extension(extension: &str) -> Option<(&'static str, Kind)> {
    use Kind::*;
    Some(match extension {
        "rs" => ("Rust", Backend),
        "py" | "pyi" | "pyw" => ("Python", Backend),
        "go" => ("Go", Backend),
        "java" => ("Java", Backend),
        "kt" | "kts" => ("Kotlin", Backend),
        "scala" | "sc" => ("Scala", Backend),
        "groovy" | "gradle" => ("Groovy", Data),
        "c" | "h" => ("C", Backend),
        "cc" | "cpp" | "cxx" | "c++" | "hh" | "hpp" | "hxx" | "h++" | "ipp" => ("C++", Backend),
        "cs" => ("C#", Backend),
        "fs" | "fsi" | "fsx" => ("F#", Backend),
        "rb" | "rake" | "gemspec" => ("Ruby", Backend),
        "php" => ("PHP", Backend),
        "swift" => ("Swift", Backend),
        "m" | "mm" => ("Objective-C", Backend),
        "ex" | "exs" => ("Elixir", Backend),
        "erl" | "hrl" => ("Erlang", Backend),
        "hs" => ("Haskell", Backend),
        "ml" | "mli" => ("OCaml", Backend),
        "clj" | "cljs" | "cljc" | "edn" => ("Clojure", Backend),
        "zig" => ("Zig", Backend),
        "nim" => ("Nim", Backend),
        "dart" => ("Dart", Backend),
        "lua" => ("Lua", Code),
        "pl" | "pm" => ("Perl", Backend),
        "r" => ("R", Code),
        "jl" => ("Julia", Code),
        "ts" | "mts" | "cts" => ("TypeScript", Code),
        "tsx" => ("TypeScript", Frontend),
        "js" | "mjs" | "cjs" => ("JavaScript", Code),
        "jsx" => ("JavaScript", Frontend),
        "vue" => ("Vue", Frontend),
        "svelte" => ("Svelte", Frontend),
        "html" | "htm" => ("HTML", Markup),
        "css" => ("CSS", Markup),
        "scss" | "sass" => ("SCSS", Markup),
        "less" => ("Less", Markup),
        "sh" | "bash" | "zsh" | "ksh" => ("Shell", Code),
        "fish" => ("Fish", Code),
        "ps1" | "psm1" => ("PowerShell", Code),
        "bat" | "cmd" => ("Batch", Code),
        "sql" => ("SQL", Code),
        "proto" => ("Protocol Buffers", Data),
        "graphql" | "gql" => ("GraphQL", Data),
        "md" | "markdown" => ("Markdown", Data),
        "rst" => ("reStructuredText", Data),
        "txt" => ("Text", Data),
        "toml" => ("TOML", Data),
        "yml" | "yaml" => ("YAML", Data),
        "json" | "jsonc" | "json5" => ("JSON", Data),
        "xml" | "xsd" | "xsl" => ("XML", Data),
        "ini" | "cfg" => ("INI", Data),
        "csv" => ("CSV", Data),
        "nix" => ("Nix", Data),
        "tf" | "hcl" => ("HCL", Data),
        "cmake" => ("CMake", Data),
        "mk" => ("Makefile", Data),
        "dockerfile" => ("Dockerfile", Data),
        _ => return None,
    })
}

/// Whether files of this kind are program source worth previewing.
pub(crate) fn is_source(kind: Kind) -> bool {
    matches!(kind, Kind::Backend | Kind::Frontend | Kind::Code)
}
