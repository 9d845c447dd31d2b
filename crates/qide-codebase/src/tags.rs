//! Definitions and references of one source file, read with tree-sitter.
//!
//! Each supported language has one tags query, written for QIDE below. Its
//! patterns capture:
//!
//! - `@definition.KIND` on the node of a definition, with `@name` on the
//!   node holding its name; `KIND` is what the map shows (`fn`, `class`,
//!   `def`…). An optional `@kind` capture replaces `KIND` with the source's
//!   own keyword (`const` or `let` for a JavaScript declaration), and
//!   `@trait` names the trait of a Rust `impl`;
//! - `@reference` on an identifier that uses a name defined elsewhere: calls,
//!   method calls, types, macro invocations, imports, JSX components.
//!
//! What the query finds is then placed: a definition inside a container (an
//! `impl`, class, trait, interface, namespace…) is a member of it; one
//! inside anything else (a function body, a variable's initialiser) is local
//! and dropped, since a model navigating a project has no use for it. An
//! identifier that is itself the name of a definition is not a reference.
//!
//! Languages without a grammar here fall back to the regex
//! [`outline`](crate::outline) for definitions and to the file's
//! identifier-like words for references (see [`file_tags`]).

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use streaming_iterator::StreamingIterator;
use tree_sitter::{Language, Node, Parser, Query, QueryCursor};

use crate::outline::{Definition, MAX_SIGNATURE_BYTES, outline};

/// A file larger than this with fewer lines than one per
/// [`MINIFIED_BYTES_PER_LINE`] bytes is taken for minified or generated code
/// and not parsed: its definitions are noise and parsing it costs the most.
pub const MINIFIED_MIN_BYTES: usize = 64 * 1024;
/// See [`MINIFIED_MIN_BYTES`].
pub const MINIFIED_BYTES_PER_LINE: usize = 300;

/// How a file's tags were found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagMethod {
    /// Parsed with tree-sitter and the language's tags query.
    TreeSitter,
    /// The regex outline and the file's words: the language has no grammar
    /// here, or the file looks minified.
    Outline,
}

impl TagMethod {
    /// The wire name: `tree_sitter` or `regex_outline`.
    pub fn as_str(self) -> &'static str {
        match self {
            TagMethod::TreeSitter => "tree_sitter",
            TagMethod::Outline => "regex_outline",
        }
    }
}

/// The tags of one file.
#[derive(Debug, Clone, PartialEq)]
pub struct FileTags {
    /// The language's display name (`Rust`, `TypeScript`…).
    pub language: &'static str,
    /// How the tags were found.
    pub method: TagMethod,
    /// Definitions in line order; locals (inside function bodies) are left
    /// out.
    pub definitions: Vec<Definition>,
    /// For each definition, the index of the definition it is a member of.
    pub parents: Vec<Option<usize>>,
    /// Names the file uses, with how often, sorted by name.
    pub references: Vec<(String, u32)>,
}

/// The tags of `text`, the content of the file at `path` (relative, used for
/// its extension) in `language` (a display name from `language::detect`).
/// `None` when neither a grammar nor the outline knows the language.
pub fn file_tags(language: &'static str, path: &str, text: &str) -> Option<FileTags> {
    let minified =
        text.len() > MINIFIED_MIN_BYTES && text.len() / MINIFIED_BYTES_PER_LINE > line_count(text);
    if !minified
        && let Some(grammar) = grammar(language, path)
        && let Some(tags) = parse(grammar, language, text)
    {
        return Some(tags);
    }
    crate::outline::can_outline(language).then(|| outline_tags(language, text))
}

/// Whether files of `language` at `path` are parsed with tree-sitter.
pub fn has_grammar(language: &str, path: &str) -> bool {
    grammar(language, path).is_some()
}

fn line_count(text: &str) -> usize {
    memchr::memchr_iter(b'\n', text.as_bytes()).count() + 1
}

/// Definition kinds that hold members: what is defined inside them is part
/// of the map, indented under them.
const CONTAINERS: &[&str] = &[
    "impl",
    "trait",
    "class",
    "interface",
    "mod",
    "namespace",
    "struct",
    "enum",
    "record",
    "type",
    "union",
];

/// One language's parser setup.
struct Grammar {
    language: Language,
    query: Query,
    /// Per capture index, what it marks.
    roles: Vec<Role>,
}

#[derive(Debug, Clone, PartialEq)]
enum Role {
    Definition(String),
    Name,
    Kind,
    Trait,
    Reference,
    Other,
}

impl Grammar {
    fn new(language: Language, query: &str) -> Grammar {
        // The queries are constants of this file, compiled by the tests for
        // every grammar, so a failure here is a bug caught before release.
        let query = Query::new(&language, query).expect("tags queries are valid");
        let roles = query
            .capture_names()
            .iter()
            .map(|name| match *name {
                "name" => Role::Name,
                "kind" => Role::Kind,
                "trait" => Role::Trait,
                "reference" => Role::Reference,
                other => match other.strip_prefix("definition.") {
                    Some(kind) => Role::Definition(kind.to_owned()),
                    None => Role::Other,
                },
            })
            .collect();
        Grammar {
            language,
            query,
            roles,
        }
    }
}

const RUST_QUERY: &str = r#"
(function_item name: (identifier) @name) @definition.fn
(function_signature_item name: (identifier) @name) @definition.fn
(struct_item name: (type_identifier) @name) @definition.struct
(enum_item name: (type_identifier) @name) @definition.enum
(union_item name: (type_identifier) @name) @definition.union
(trait_item name: (type_identifier) @name) @definition.trait
(type_item name: (type_identifier) @name) @definition.type
(mod_item name: (identifier) @name) @definition.mod
(const_item name: (identifier) @name) @definition.const
(static_item name: (identifier) @name) @definition.static
(macro_definition name: (identifier) @name) @definition.macro_rules
(impl_item trait: (_) @trait type: (_) @name) @definition.impl
(impl_item !trait type: (_) @name) @definition.impl

(call_expression function: (identifier) @reference)
(call_expression function: (field_expression field: (field_identifier) @reference))
(call_expression function: (scoped_identifier path: (identifier) @reference name: (identifier) @reference))
(call_expression function: (scoped_identifier path: (_) name: (identifier) @reference))
(generic_function function: (identifier) @reference)
(generic_function function: (field_expression field: (field_identifier) @reference))
(generic_function function: (scoped_identifier name: (identifier) @reference))
(macro_invocation macro: (identifier) @reference)
(macro_invocation macro: (scoped_identifier name: (identifier) @reference))
(use_declaration argument: (scoped_identifier name: (identifier) @reference))
(use_as_clause path: (scoped_identifier name: (identifier) @reference))
(use_list (identifier) @reference)
(use_list (scoped_identifier name: (identifier) @reference))
(type_identifier) @reference
"#;

const PYTHON_QUERY: &str = r#"
(function_definition name: (identifier) @name) @definition.def
(class_definition name: (identifier) @name) @definition.class

(call function: (identifier) @reference)
(call function: (attribute attribute: (identifier) @reference))
(import_from_statement name: (dotted_name (identifier) @reference .))
(import_from_statement name: (aliased_import name: (dotted_name (identifier) @reference .)))
(class_definition superclasses: (argument_list (identifier) @reference))
(class_definition superclasses: (argument_list (attribute attribute: (identifier) @reference)))
(type (identifier) @reference)
(decorator (identifier) @reference)
"#;

const GO_QUERY: &str = r#"
(function_declaration name: (identifier) @name) @definition.func
(method_declaration name: (field_identifier) @name) @definition.func
(type_spec name: (type_identifier) @name) @definition.type
(method_elem name: (field_identifier) @name) @definition.method
(const_spec name: (identifier) @name) @definition.const

(call_expression function: (identifier) @reference)
(call_expression function: (selector_expression field: (field_identifier) @reference))
(type_identifier) @reference
"#;

/// Patterns JavaScript and TypeScript share.
const SCRIPT_QUERY: &str = r#"
(function_declaration name: (identifier) @name) @definition.function
(generator_function_declaration name: (identifier) @name) @definition.function
(method_definition name: [(property_identifier) (private_property_identifier)] @name) @definition.method
(lexical_declaration kind: _ @kind (variable_declarator name: (identifier) @name)) @definition.const
(variable_declaration (variable_declarator name: (identifier) @name)) @definition.var

(call_expression function: (identifier) @reference)
(call_expression function: (member_expression property: (property_identifier) @reference))
(new_expression constructor: (identifier) @reference)
(import_specifier name: (identifier) @reference)
"#;

const JAVASCRIPT_ONLY_QUERY: &str = r#"
(class_declaration name: (identifier) @name) @definition.class
(class_heritage (identifier) @reference)
"#;

const JSX_QUERY: &str = r#"
(jsx_opening_element name: (identifier) @reference)
(jsx_self_closing_element name: (identifier) @reference)
"#;

const TYPESCRIPT_ONLY_QUERY: &str = r#"
(function_signature name: (identifier) @name) @definition.function
(class_declaration name: (type_identifier) @name) @definition.class
(abstract_class_declaration name: (type_identifier) @name) @definition.class
(interface_declaration name: (type_identifier) @name) @definition.interface
(type_alias_declaration name: (type_identifier) @name) @definition.type
(enum_declaration name: (identifier) @name) @definition.enum
(internal_module name: (_) @name) @definition.namespace
(method_signature name: (property_identifier) @name) @definition.method
(abstract_method_signature name: (property_identifier) @name) @definition.method

(extends_clause value: (identifier) @reference)
(type_identifier) @reference
"#;

const JAVA_QUERY: &str = r#"
(class_declaration name: (identifier) @name) @definition.class
(interface_declaration name: (identifier) @name) @definition.interface
(enum_declaration name: (identifier) @name) @definition.enum
(record_declaration name: (identifier) @name) @definition.record
(annotation_type_declaration name: (identifier) @name) @definition.interface
(method_declaration name: (identifier) @name) @definition.method

(method_invocation name: (identifier) @reference)
(import_declaration (scoped_identifier name: (identifier) @reference))
(type_identifier) @reference
"#;

/// Patterns C and C++ share.
const C_FAMILY_QUERY: &str = r#"
(function_definition declarator: (function_declarator declarator: (identifier) @name)) @definition.function
(function_definition declarator: (pointer_declarator declarator: (function_declarator declarator: (identifier) @name))) @definition.function
(declaration declarator: (function_declarator declarator: (identifier) @name)) @definition.function
(declaration declarator: (pointer_declarator declarator: (function_declarator declarator: (identifier) @name))) @definition.function
(struct_specifier name: (type_identifier) @name body: (_)) @definition.struct
(union_specifier name: (type_identifier) @name body: (_)) @definition.union
(enum_specifier name: (type_identifier) @name body: (_)) @definition.enum
(type_definition declarator: (type_identifier) @name) @definition.typedef
(preproc_function_def name: (identifier) @name) @definition.macro
(preproc_def name: (identifier) @name value: (_)) @definition.macro

(call_expression function: (identifier) @reference)
(call_expression function: (field_expression field: (field_identifier) @reference))
(type_identifier) @reference
"#;

const CPP_ONLY_QUERY: &str = r#"
(function_definition declarator: (function_declarator declarator: (field_identifier) @name)) @definition.function
(function_definition declarator: (function_declarator declarator: (qualified_identifier name: (identifier) @name))) @definition.function
(function_definition declarator: (reference_declarator (function_declarator declarator: [(identifier) (field_identifier)] @name))) @definition.function
(function_definition declarator: (pointer_declarator declarator: (function_declarator declarator: (field_identifier) @name))) @definition.function
(field_declaration declarator: (function_declarator declarator: (field_identifier) @name)) @definition.function
(class_specifier name: (type_identifier) @name body: (_)) @definition.class
(namespace_definition name: (namespace_identifier) @name) @definition.namespace
(alias_declaration name: (type_identifier) @name) @definition.using

(call_expression function: (qualified_identifier name: (identifier) @reference))
(call_expression function: (template_function name: (identifier) @reference))
"#;

fn build(language: impl Into<Language>, parts: &[&str]) -> Grammar {
    Grammar::new(language.into(), &parts.concat())
}

static RUST: LazyLock<Grammar> = LazyLock::new(|| build(tree_sitter_rust::LANGUAGE, &[RUST_QUERY]));
static PYTHON: LazyLock<Grammar> =
    LazyLock::new(|| build(tree_sitter_python::LANGUAGE, &[PYTHON_QUERY]));
static GO: LazyLock<Grammar> = LazyLock::new(|| build(tree_sitter_go::LANGUAGE, &[GO_QUERY]));
static JAVASCRIPT: LazyLock<Grammar> = LazyLock::new(|| {
    build(
        tree_sitter_javascript::LANGUAGE,
        &[SCRIPT_QUERY, JAVASCRIPT_ONLY_QUERY, JSX_QUERY],
    )
});
static TYPESCRIPT: LazyLock<Grammar> = LazyLock::new(|| {
    build(
        tree_sitter_typescript::LANGUAGE_TYPESCRIPT,
        &[SCRIPT_QUERY, TYPESCRIPT_ONLY_QUERY],
    )
});
static TSX: LazyLock<Grammar> = LazyLock::new(|| {
    build(
        tree_sitter_typescript::LANGUAGE_TSX,
        &[SCRIPT_QUERY, TYPESCRIPT_ONLY_QUERY, JSX_QUERY],
    )
});
static JAVA: LazyLock<Grammar> = LazyLock::new(|| build(tree_sitter_java::LANGUAGE, &[JAVA_QUERY]));
static C: LazyLock<Grammar> = LazyLock::new(|| build(tree_sitter_c::LANGUAGE, &[C_FAMILY_QUERY]));
static CPP: LazyLock<Grammar> =
    LazyLock::new(|| build(tree_sitter_cpp::LANGUAGE, &[C_FAMILY_QUERY, CPP_ONLY_QUERY]));

/// The grammar for a file, by its language and (for TSX) its extension.
fn grammar(language: &str, path: &str) -> Option<&'static Grammar> {
    Some(match language {
        "Rust" => &RUST,
        "Python" => &PYTHON,
        "Go" => &GO,
        "JavaScript" => &JAVASCRIPT,
        "TypeScript" if path.to_ascii_lowercase().ends_with(".tsx") => &TSX,
        "TypeScript" => &TYPESCRIPT,
        "Java" => &JAVA,
        "C" => &C,
        "C++" => &CPP,
        _ => return None,
    })
}

/// Compiles every grammar's query, so a bad pattern fails a test rather than
/// a request. Returns how many grammars were checked.
#[doc(hidden)]
pub fn check_queries() -> usize {
    let all: [&LazyLock<Grammar>; 9] = [
        &RUST,
        &PYTHON,
        &GO,
        &JAVASCRIPT,
        &TYPESCRIPT,
        &TSX,
        &JAVA,
        &C,
        &CPP,
    ];
    for grammar in all {
        assert!(LazyLock::force(grammar).query.pattern_count() > 0);
    }
    all.len()
}

thread_local! {
    /// One parser per thread: creating one allocates, and the walk parses
    /// thousands of files on a few threads.
    static PARSER: RefCell<Parser> = RefCell::new(Parser::new());
}

/// A definition as the query found it, before placing.
struct Found {
    start: usize,
    end: usize,
    start_row: usize,
    name_row: usize,
    name_start: usize,
    kind: String,
    name: String,
}

fn parse(grammar: &Grammar, language: &'static str, text: &str) -> Option<FileTags> {
    let tree = PARSER.with(|parser| {
        let mut parser = parser.borrow_mut();
        parser.set_language(&grammar.language).ok()?;
        parser.parse(text, None)
    })?;
    let source = text.as_bytes();
    let mut found: Vec<Found> = Vec::new();
    let mut references: Vec<(usize, Node<'_>)> = Vec::new();
    let mut cursor = QueryCursor::new();
    let mut matches = cursor.matches(&grammar.query, tree.root_node(), source);
    while let Some(m) = matches.next() {
        let mut definition = None;
        let mut name = None;
        let mut kind = None;
        let mut trait_node = None;
        for capture in m.captures() {
            match &grammar.roles[capture.index as usize] {
                Role::Definition(k) => definition = Some((capture.node, k.as_str())),
                Role::Name => name = Some(capture.node),
                Role::Kind => kind = Some(capture.node),
                Role::Trait => trait_node = Some(capture.node),
                Role::Reference => references.push((capture.node.start_byte(), capture.node)),
                Role::Other => {}
            }
        }
        let (Some((node, default_kind)), Some(name_node)) = (definition, name) else {
            continue;
        };
        let node_text = |n: Node<'_>| n.utf8_text(source).unwrap_or_default().to_owned();
        let mut name_text = node_text(name_node);
        if let Some(t) = trait_node {
            name_text = format!("{} for {name_text}", node_text(t));
        }
        // Names spanning lines (a generic impl target) read better on one.
        let name_text = name_text.split_whitespace().collect::<Vec<_>>().join(" ");
        found.push(Found {
            start: node.start_byte(),
            end: node.end_byte(),
            start_row: node.start_position().row,
            name_row: name_node.start_position().row,
            name_start: name_node.start_byte(),
            kind: kind.map_or_else(|| default_kind.to_owned(), node_text),
            name: name_text,
        });
    }

    // Outer definitions before the ones they contain.
    found.sort_by(|a, b| (a.start, b.end, &a.name).cmp(&(b.start, a.end, &b.name)));
    found.dedup_by(|a, b| a.start == b.start && a.end == b.end && a.name == b.name);
    let lines: Vec<&str> = text.lines().collect();
    let mut definitions: Vec<Definition> = Vec::new();
    let mut parents = Vec::new();
    // Open definitions: (end byte, index in `definitions` if kept, container).
    let mut open: Vec<(usize, Option<usize>, bool)> = Vec::new();
    for f in &found {
        while open.last().is_some_and(|&(end, _, _)| end <= f.start) {
            open.pop();
        }
        let container = CONTAINERS.contains(&f.kind.as_str());
        let (kept, parent) = match open.last() {
            None => (true, None),
            // An impl's associated types (`type Item = u8;`) say nothing a
            // reader of the map needs.
            Some(&(_, Some(parent), true))
                if f.kind == "type" && definitions[parent].kind == "impl" =>
            {
                (false, None)
            }
            Some(&(_, Some(parent), true)) => (true, Some(parent)),
            // Inside a function, an initialiser, or a dropped definition.
            Some(_) => (false, None),
        };
        let index = kept.then_some(definitions.len());
        open.push((f.end, index, container));
        if !kept {
            continue;
        }
        definitions.push(Definition {
            kind: f.kind.clone(),
            name: f.name.clone(),
            line: f.start_row as u64 + 1,
            signature: signature(&lines, f.start_row, f.name_row),
            member: parent.is_some(),
        });
        parents.push(parent);
    }

    let names: HashSet<usize> = found.iter().map(|f| f.name_start).collect();
    let mut counts: HashMap<&str, u32> = HashMap::new();
    references.sort_by_key(|&(start, _)| start);
    references.dedup_by_key(|&mut (start, _)| start);
    for (start, node) in &references {
        if names.contains(start) {
            continue;
        }
        if let Ok(name) = node.utf8_text(source) {
            *counts.entry(name).or_insert(0) += 1;
        }
    }
    Some(FileTags {
        language,
        method: TagMethod::TreeSitter,
        definitions,
        parents,
        references: sorted_counts(counts),
    })
}

/// The defining line(s), trimmed: from the line the definition starts on to
/// the one holding its name (a C return type on the line above), at most
/// three, cut at [`MAX_SIGNATURE_BYTES`].
fn signature(lines: &[&str], start_row: usize, name_row: usize) -> String {
    let first = if name_row.saturating_sub(start_row) > 2 {
        name_row
    } else {
        start_row
    };
    let last = name_row.max(first);
    let mut signature = (first..=last)
        .filter_map(|row| lines.get(row))
        .map(|line| line.trim())
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if signature.len() > MAX_SIGNATURE_BYTES {
        let mut cut = MAX_SIGNATURE_BYTES;
        while !signature.is_char_boundary(cut) {
            cut -= 1;
        }
        signature.truncate(cut);
        signature.push('…');
    }
    signature
}

/// Tags from the regex outline: members belong to the closest top-level
/// definition above them; references are the file's identifier-like words.
fn outline_tags(language: &'static str, text: &str) -> FileTags {
    let definitions = outline(language, text);
    let mut parents = Vec::with_capacity(definitions.len());
    let mut last_top = None;
    for (i, definition) in definitions.iter().enumerate() {
        if definition.member {
            parents.push(last_top);
        } else {
            parents.push(None);
            last_top = Some(i);
        }
    }
    let defined: HashSet<&str> = definitions.iter().map(|d| d.name.as_str()).collect();
    let mut counts: HashMap<&str, u32> = HashMap::new();
    for word in text.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$')) {
        if word.is_empty() || word.starts_with(|c: char| c.is_ascii_digit()) {
            continue;
        }
        *counts.entry(word).or_insert(0) += 1;
    }
    // A definition's own name is not a reference to it.
    for name in defined {
        if let Some(n) = counts.get_mut(name) {
            *n = n.saturating_sub(1);
        }
    }
    counts.retain(|_, n| *n > 0);
    FileTags {
        language,
        method: TagMethod::Outline,
        definitions,
        parents,
        references: sorted_counts(counts),
    }
}

fn sorted_counts(counts: HashMap<&str, u32>) -> Vec<(String, u32)> {
    let mut sorted: Vec<(String, u32)> = counts
        .into_iter()
        .map(|(name, n)| (name.to_owned(), n))
        .collect();
    sorted.sort_unstable();
    sorted
}
