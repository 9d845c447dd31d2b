//! The map and the pack on real code nobody here wrote: the `memchr` crate
//! as cargo unpacked it (the workspace depends on it, so it is always in the
//! registry when these tests build) and the sdist of Python's `packaging`
//! 24.2 under `test_data/` (Apache-2.0 or BSD-2-Clause, see
//! `test_data/README.md`). Tokens are counted with o200k_base, the
//! tokenizer the server counts with.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use qide_codebase::{LeftOutReason, MapCache, MapFocus, MapReason, RepoMap, pack, repo_map};
use tempfile::TempDir;
use tiktoken_rs::CoreBPE;

static O200K: LazyLock<CoreBPE> =
    LazyLock::new(|| tiktoken_rs::o200k_base().expect("o200k_base ships with tiktoken-rs"));

fn tokens(text: &str) -> u64 {
    O200K.encode_ordinary(text).len() as u64
}

/// The registry's unpacked `memchr` 2.x with the highest version.
fn memchr_source() -> PathBuf {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")))
        .expect("CARGO_HOME or HOME is set");
    let mut found: Vec<(Vec<u64>, PathBuf)> = Vec::new();
    for index in std::fs::read_dir(cargo_home.join("registry/src")).expect("the cargo registry") {
        let index = index.expect("a registry index").path();
        for entry in std::fs::read_dir(&index).expect("an index directory") {
            let path = entry.expect("a crate directory").path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if let Some(version) = name.strip_prefix("memchr-2.")
                && path.join("src/memchr.rs").is_file()
            {
                let version = version.split('.').filter_map(|p| p.parse().ok()).collect();
                found.push((version, path));
            }
        }
    }
    found.sort();
    found
        .pop()
        .expect("memchr 2.x unpacked in the cargo registry")
        .1
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("creating a directory");
    for entry in std::fs::read_dir(from).expect("reading a directory") {
        let entry = entry.expect("a directory entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("a file type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copying a file");
        }
    }
}

/// A private copy of memchr's source, so nothing the test does touches the
/// registry and nothing in the registry's directory changes what is walked.
fn memchr() -> TempDir {
    let dir = tempfile::tempdir().expect("a temp dir");
    copy_tree(&memchr_source(), dir.path());
    dir
}

/// `packaging` 24.2's sdist, unpacked.
fn packaging() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let sdist = Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/packaging-24.2.tar.gz");
    let file = std::fs::File::open(sdist).expect("the sdist under test_data");
    tar::Archive::new(flate2::read::GzDecoder::new(file))
        .unpack(dir.path())
        .expect("unpacking the sdist");
    let root = dir.path().join("packaging-24.2");
    (dir, root)
}

/// The definitions the map shows for `path`, as (kind, name, member).
fn shown<'a>(map: &'a RepoMap, path: &str) -> Vec<(&'a str, &'a str, bool)> {
    map.files
        .iter()
        .find(|f| f.path == path)
        .map(|f| {
            f.definitions
                .iter()
                .map(|d| (d.kind.as_str(), d.name.as_str(), d.member))
                .collect()
        })
        .unwrap_or_default()
}

/// Re-counts every file's text and checks the sums against the budget.
fn check_budget(map: &RepoMap, budget: u64) {
    let recounted: u64 = map.files.iter().map(|f| tokens(&f.text)).sum();
    assert_eq!(recounted, map.tokens, "budget {budget}");
    for file in &map.files {
        assert_eq!(tokens(&file.text), file.tokens, "{}", file.path);
    }
    assert!(map.tokens <= budget, "{} > {budget}", map.tokens);
}

#[test]
fn the_map_of_memchr_names_its_real_top_level_items() {
    let dir = memchr();
    let map = repo_map(dir.path(), 4096, &[], tokens).unwrap();
    check_budget(&map, 4096);
    assert_eq!(map.method(), "tree_sitter");
    // The budget is used, not left half empty.
    assert!(map.tokens > 3000, "{}", map.tokens);
    let memchr = shown(&map, "src/memchr.rs");
    for name in ["memchr", "memrchr", "memchr2", "memchr_iter"] {
        assert!(memchr.contains(&("fn", name, false)), "{name}: {memchr:?}");
    }
    assert!(memchr.contains(&("struct", "Memchr", false)), "{memchr:?}");
    // memchr reuses `find` and `Finder` in a dozen modules, so the public
    // ones need more room to show.
    let roomy = repo_map(dir.path(), 16_384, &[], tokens).unwrap();
    check_budget(&roomy, 16_384);
    let memmem = shown(&roomy, "src/memmem/mod.rs");
    for item in [("fn", "find", false), ("struct", "Finder", false)] {
        assert!(memmem.contains(&item), "{item:?}: {memmem:?}");
    }
    // Associated types of impls are not worth a line.
    assert!(
        roomy
            .files
            .iter()
            .all(|f| f.definitions.iter().all(|d| d.name != "Item"))
    );

    // Every budget holds, counted again over the exact text.
    for budget in [1, 64, 256, 1024, 16_384] {
        let map = repo_map(dir.path(), budget, &[], tokens).unwrap();
        check_budget(&map, budget);
    }
}

#[test]
fn a_failing_memchr_file_leads_its_map_with_what_it_uses() {
    let dir = memchr();
    let focus = MapFocus {
        files: vec!["src/memmem/searcher.rs".to_owned()],
        symbols: vec!["prefilter".to_owned()],
    };
    let cache = MapCache::new();
    let map = cache.repo_map(dir.path(), 2048, &focus, tokens).unwrap();
    check_budget(&map, 2048);
    assert_eq!(map.files[0].path, "src/memmem/searcher.rs");
    assert_eq!(map.files[0].reason, MapReason::Failing);
    let referenced: Vec<&str> = map
        .files
        .iter()
        .filter(|f| f.reason == MapReason::ReferencedByFailing)
        .map(|f| f.path.as_str())
        .collect();
    assert!(
        referenced.contains(&"src/arch/all/rabinkarp.rs"),
        "{referenced:?}"
    );
    // The second call parses nothing and answers the same.
    let again = cache.repo_map(dir.path(), 2048, &focus, tokens).unwrap();
    assert_eq!(again.parsed, 0);
    assert_eq!(again.files, map.files);
}

#[test]
fn the_map_of_packaging_names_its_real_classes_and_functions() {
    let (_dir, root) = packaging();
    let map = repo_map(&root, 4096, &[], tokens).unwrap();
    check_budget(&map, 4096);
    assert_eq!(map.method(), "tree_sitter");
    let version = shown(&map, "src/packaging/version.py");
    for item in [("class", "Version", false), ("def", "parse", false)] {
        assert!(version.contains(&item), "{item:?}: {version:?}");
    }
    let specifiers = shown(&map, "src/packaging/specifiers.py");
    assert!(
        specifiers.contains(&("class", "SpecifierSet", false)),
        "{specifiers:?}"
    );
    let requirements = shown(&map, "src/packaging/requirements.py");
    assert!(
        requirements.contains(&("class", "Requirement", false)),
        "{requirements:?}"
    );
    // What the package is about survives a tight budget.
    let tight = repo_map(&root, 1024, &[], tokens).unwrap();
    check_budget(&tight, 1024);
    for (path, item) in [
        ("src/packaging/version.py", ("class", "Version", false)),
        (
            "src/packaging/specifiers.py",
            ("class", "SpecifierSet", false),
        ),
        (
            "src/packaging/requirements.py",
            ("class", "Requirement", false),
        ),
    ] {
        assert!(shown(&tight, path).contains(&item), "{item:?}");
    }
    // Binaries and caches in the sdist are never mapped.
    assert!(map.files.iter().all(|f| f.path.ends_with(".py")));
}

#[test]
fn the_pack_of_real_code_holds_its_budget_exactly() {
    let dir = memchr();
    let (_sdist, packaging) = packaging();
    for root in [dir.path(), packaging.as_path()] {
        for budget in [500, 5_000, 50_000] {
            let packed = pack(root, budget, &[], |text| (text.to_owned(), tokens(text))).unwrap();
            let recounted: u64 = packed.files.iter().map(|f| tokens(&f.content)).sum();
            assert_eq!(recounted, packed.tokens);
            assert!(packed.tokens <= budget, "{} > {budget}", packed.tokens);
            // Whatever was counted and left out for the budget did not fit
            // in what the pack left free.
            let free = budget - packed.tokens;
            for left in &packed.left_out {
                if let (LeftOutReason::OverBudget, Some(tokens)) = (left.reason, left.tokens) {
                    assert!(tokens > free, "{} ({tokens}) fits in {free}", left.path);
                }
            }
            assert!(!packed.files.is_empty());
        }
    }
    // The sdist's test binaries are listed as binary, never packed.
    let packed = pack(&packaging, 1_000_000, &[], |text| {
        (text.to_owned(), tokens(text))
    })
    .unwrap();
    let binary = packed
        .left_out
        .iter()
        .find(|l| l.path == "tests/manylinux/hello-world-x86_64-amd64")
        .expect("the ELF test file is listed");
    assert_eq!(binary.reason, LeftOutReason::Binary);
}
