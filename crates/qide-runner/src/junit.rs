//! JUnit XML reports a step wrote: found in the project after each step,
//! read with `qide_diagnose::parse_junit`, and handed to [`crate::Diagnose`]
//! with the finished build, so test results reach the build's summary even
//! when the log says little (a quiet reporter, output cut by the log cap).
//!
//! A file counts when it was written or modified during the step (its
//! modification time is at or after the step's start, less
//! [`CLOCK_SLACK`] for file systems with coarse timestamps), its name says it
//! is a report, it lies inside the project root (symbolic links are never
//! followed), it is at most [`MAX_REPORT_BYTES`], and it starts like one
//! (`<testsuite`/`<testcase`). Report names, as the common tools write them:
//!
//! - `junit*.xml` anywhere (nextest's `target/nextest/<profile>/junit.xml`,
//!   jest-junit's `junit.xml`, pytest's `--junitxml=junit.xml`);
//! - `TEST-*.xml` anywhere (Maven Surefire and Failsafe, Gradle, Ant);
//! - any `*.xml` under a directory named `test-results`, `test-reports`,
//!   `surefire-reports` or `failsafe-reports` (Gradle's
//!   `build/test-results/test/`, CircleCI's convention).
//!
//! The walk skips what is big and never holds reports (`.git`, `.qide`,
//! `node_modules`, virtual environments), enters only the report
//! directories of a `target` directory (a Cargo target dir holds tens of
//! thousands of files), and stops after [`MAX_ENTRIES`] directory entries.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use qide_diagnose::TestCase;

/// At most this many directory entries are looked at per walk.
pub(crate) const MAX_ENTRIES: usize = 200_000;
/// Directories deeper than this below the root are not entered.
pub(crate) const MAX_DEPTH: usize = 16;
/// Larger files are not read: a report of 100,000 tests is about 20 MB.
pub(crate) const MAX_REPORT_BYTES: u64 = 32 << 20;
/// At most this many reports are read per step.
pub(crate) const MAX_REPORTS: usize = 1_000;
/// Files modified this long before a step started still count: some file
/// systems keep modification times to the second or two.
pub(crate) const CLOCK_SLACK: Duration = Duration::from_secs(2);

/// Directories never entered.
const SKIPPED_DIRS: &[&str] = &[
    ".git",
    ".qide",
    ".hg",
    ".svn",
    "node_modules",
    ".venv",
    "venv",
    "__pycache__",
    ".mypy_cache",
    ".pytest_cache",
    ".gradle",
    ".cargo",
];

/// The only children of a `target` directory that are entered.
const TARGET_REPORT_DIRS: &[&str] = &[
    "nextest",
    "surefire-reports",
    "failsafe-reports",
    "test-reports",
    "test-results",
];

/// Directories whose XML files are all taken as reports.
const REPORT_DIRS: &[&str] = &[
    "test-results",
    "test-reports",
    "surefire-reports",
    "failsafe-reports",
];

/// The JUnit reports of one build, by file; a file rewritten by a later
/// step replaces what an earlier step read from it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TestReports {
    by_file: BTreeMap<PathBuf, Vec<TestCase>>,
}

impl TestReports {
    /// No reports.
    pub fn new() -> TestReports {
        TestReports::default()
    }

    /// Finds and reads the reports written under `root` since `since` (a
    /// step's start), replacing earlier readings of the same files.
    /// Blocking: call it from `spawn_blocking`.
    pub fn collect(&mut self, root: &Path, since: SystemTime) {
        for path in find_reports(root, since) {
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            if !qide_diagnose::looks_like_junit(&bytes) {
                continue;
            }
            let report = qide_diagnose::parse_junit(&bytes);
            for issue in &report.issues {
                tracing::warn!(file = %path.display(), issue, "reading a JUnit report");
            }
            let relative = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
            self.by_file.insert(relative, report.tests);
        }
    }

    /// Adds what another collection found, which wins for the same file.
    pub fn extend(&mut self, other: TestReports) {
        self.by_file.extend(other.by_file);
    }

    /// The report files read, relative to the project root.
    pub fn files(&self) -> impl Iterator<Item = &Path> {
        self.by_file.keys().map(PathBuf::as_path)
    }

    /// Every test case of every report, reports in path order.
    pub fn tests(&self) -> impl Iterator<Item = &TestCase> {
        self.by_file.values().flatten()
    }

    /// Whether no report was found.
    pub fn is_empty(&self) -> bool {
        self.by_file.is_empty()
    }
}

/// The report files under `root` modified since `since`, sorted.
pub fn find_reports(root: &Path, since: SystemTime) -> Vec<PathBuf> {
    let since = since.checked_sub(CLOCK_SLACK).unwrap_or(since);
    let mut found = Vec::new();
    let mut entries = 0usize;
    // Depth-first with an explicit stack, so a deep tree cannot overflow
    // the thread's stack; each entry carries whether it lies under a
    // report directory.
    let mut stack = vec![(root.to_path_buf(), 0usize, false)];
    while let Some((dir, depth, in_reports)) = stack.pop() {
        let Ok(read) = std::fs::read_dir(&dir) else {
            continue;
        };
        let is_target = dir != root && dir.file_name().is_some_and(|n| n == "target");
        for entry in read.flatten() {
            entries += 1;
            if entries > MAX_ENTRIES || found.len() >= MAX_REPORTS {
                tracing::warn!(root = %root.display(), "JUnit report search stopped early");
                found.sort();
                return found;
            }
            // `DirEntry::file_type` does not follow symbolic links, which
            // keeps the walk inside the root.
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                continue;
            };
            if kind.is_dir() {
                let enter = depth < MAX_DEPTH
                    && !SKIPPED_DIRS.contains(&name)
                    && (!is_target || TARGET_REPORT_DIRS.contains(&name));
                if enter {
                    let reports = in_reports || REPORT_DIRS.contains(&name);
                    stack.push((entry.path(), depth + 1, reports));
                }
            } else if kind.is_file() && is_report_name(name, in_reports) {
                let fresh = entry.metadata().ok().filter(|m| {
                    m.len() <= MAX_REPORT_BYTES && m.modified().is_ok_and(|t| t >= since)
                });
                if fresh.is_some() {
                    found.push(entry.path());
                }
            }
        }
    }
    found.sort();
    found
}

/// Whether a file called `name` is a report by its name; `in_reports`
/// when it lies under a report directory.
fn is_report_name(name: &str, in_reports: bool) -> bool {
    let lower = name.to_ascii_lowercase();
    if !lower.ends_with(".xml") {
        return false;
    }
    in_reports || lower.starts_with("junit") || name.starts_with("TEST-")
}

#[cfg(test)]
mod tests {
    use super::*;

    use qide_diagnose::TestOutcome;

    /// nextest's report as captured from the real tool.
    const NEXTEST: &[u8] = include_bytes!("../../qide-diagnose/test_data/junit/nextest.xml");
    const SUREFIRE: &[u8] = include_bytes!(
        "../../qide-diagnose/test_data/junit/surefire_TEST-com.example.CalcTest.xml"
    );

    fn write(root: &Path, path: &str, bytes: &[u8]) {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(path, bytes).expect("write");
    }

    fn relative(root: &Path, found: Vec<PathBuf>) -> Vec<String> {
        found
            .iter()
            .map(|p| p.strip_prefix(root).expect("inside").display().to_string())
            .collect()
    }

    #[test]
    fn finds_the_reports_common_tools_write() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        let before = SystemTime::now() - Duration::from_secs(1);
        write(root, "target/nextest/ci/junit.xml", NEXTEST);
        write(
            root,
            "app/target/surefire-reports/TEST-com.example.CalcTest.xml",
            SUREFIRE,
        );
        write(
            root,
            "lib/build/test-results/test/TEST-LibTest.xml",
            SUREFIRE,
        );
        write(root, "reports/junit-web.xml", NEXTEST);
        // Not reports: other XML, a Cargo target's own files, skipped dirs.
        write(root, "pom.xml", b"<project/>");
        write(root, "target/debug/junit.xml", NEXTEST);
        write(root, "node_modules/x/junit.xml", NEXTEST);
        write(root, ".git/junit.xml", NEXTEST);
        let found = relative(root, find_reports(root, before));
        assert_eq!(
            found,
            [
                "app/target/surefire-reports/TEST-com.example.CalcTest.xml",
                "lib/build/test-results/test/TEST-LibTest.xml",
                "reports/junit-web.xml",
                "target/nextest/ci/junit.xml",
            ]
        );
    }

    #[test]
    fn only_files_written_since_the_step_started() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        write(root, "old/junit.xml", NEXTEST);
        let old = std::fs::File::options()
            .write(true)
            .open(root.join("old/junit.xml"))
            .expect("open");
        old.set_modified(SystemTime::now() - Duration::from_secs(3600))
            .expect("set mtime");
        let step_start = SystemTime::now();
        write(root, "new/junit.xml", NEXTEST);
        assert_eq!(
            relative(root, find_reports(root, step_start)),
            ["new/junit.xml"]
        );
    }

    #[cfg(unix)]
    #[test]
    fn never_leaves_the_root_through_a_link() {
        let outside = tempfile::tempdir().expect("tempdir");
        write(outside.path(), "junit.xml", NEXTEST);
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        std::os::unix::fs::symlink(outside.path(), root.join("elsewhere")).expect("symlink");
        std::os::unix::fs::symlink(outside.path().join("junit.xml"), root.join("junit.xml"))
            .expect("symlink");
        let since = SystemTime::now() - Duration::from_secs(60);
        assert!(find_reports(root, since).is_empty());
    }

    #[test]
    fn a_rewritten_report_replaces_the_earlier_reading() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        let since = SystemTime::now() - Duration::from_secs(1);
        write(root, "target/nextest/ci/junit.xml", NEXTEST);
        write(
            root,
            "junit.xml",
            b"<testsuite><testcase name=\"other\"/></testsuite>",
        );
        let mut reports = TestReports::new();
        reports.collect(root, since);
        assert_eq!(reports.tests().count(), 4);
        // The next step rewrites one report with fewer tests.
        write(
            root,
            "target/nextest/ci/junit.xml",
            b"<testsuite><testcase classname=\"nexcalc\" name=\"tests::it_works\"/></testsuite>",
        );
        let mut later = TestReports::new();
        later.collect(root, since);
        reports.extend(later);
        let names: Vec<_> = reports.tests().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["other", "nexcalc tests::it_works"]);
        let failed = reports
            .tests()
            .filter(|t| t.outcome == TestOutcome::Failed)
            .count();
        assert_eq!(failed, 0);
        assert_eq!(
            reports
                .files()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>(),
            ["junit.xml", "target/nextest/ci/junit.xml"]
        );
    }

    #[test]
    fn oversized_and_unrelated_files_are_not_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        let since = SystemTime::now() - Duration::from_secs(1);
        write(root, "junit-coverage.xml", b"<coverage line-rate=\"0.5\"/>");
        let mut reports = TestReports::new();
        reports.collect(root, since);
        assert!(reports.is_empty());
        assert!(is_report_name("TEST-a.B.xml", false));
        assert!(is_report_name("JUnit.XML", false));
        assert!(!is_report_name("results.xml", false));
        assert!(is_report_name("results.xml", true));
    }
}
