//! Snapshot tests over logs of the tools added after the first set:
//! cargo's JSON messages, cargo-nextest, tsc, eslint, jest, vitest, npm and
//! Maven, each captured from the real tool on a small broken project.

use expect_test::expect;

use crate::check;

#[test]
fn cargo_json_messages() {
    check(
        "cargo_json/messages.log",
        expect![[r#"
            category: compile_error
            E root rustc E0432 src/lib.rs:1:5 compile_error L2-2 unresolved import `std::collections::HashMapp`
            E root rustc E0308 src/lib.rs:5:22 compile_error L3-3 mismatched types
            E root rustc E0308 src/lib.rs:6:5 compile_error L4-4 mismatched types
            E cascade cargo - - compile_error L7-7 could not compile `jsoncalc` (lib) due to 3 previous errors
        "#]],
    );
}

#[test]
fn cargo_json_rendered_ansi() {
    check(
        "cargo_json/rendered_ansi.log",
        expect![[r#"
            category: compile_error
            E root rustc E0432 src/lib.rs:1:5 compile_error L2-2 unresolved import `std::collections::HashMapp`
            E root rustc E0308 src/lib.rs:5:22 compile_error L3-3 mismatched types
            E root rustc E0308 src/lib.rs:6:5 compile_error L4-4 mismatched types
            E cascade cargo - - compile_error L7-7 could not compile `jsoncalc` (lib) due to 3 previous errors
        "#]],
    );
}

#[test]
fn nextest_failures() {
    check(
        "nextest/failures.log",
        expect![[r#"
            category: test_failure
            E root nextest - src/lib.rs:20:9 test_failure L5-21 nexcalc tests::it_fails: assertion `left == right` failed: math is broken
            E root nextest - src/lib.rs:6:18 test_failure L27-43 nexcalc tests::parse_panics: called `Result::unwrap()` on an `Err` value: ParseIntError { kind: InvalidDigit }
            E cascade nextest - - test_failure L50-50 error: test run failed
            test FAILED nexcalc tests::it_fails @ src/lib.rs:20 | assertion `left == right` failed: math is broken
            test passed nexcalc tests::it_works
            test FAILED nexcalc tests::parse_panics @ src/lib.rs:6 | called `Result::unwrap()` on an `Err` value: ParseIntError { kind: InvalidDigit }
        "#]],
    );
}

#[test]
fn tsc_type_errors() {
    check(
        "tsc/type_errors.log",
        expect![[r#"
            category: compile_error
            E root tsc TS2322 src/math.ts:6:9 compile_error L1-1 Type 'string' is not assignable to type 'number'.
            E root tsc TS2552 src/math.ts:7:21 compile_error L2-2 Cannot find name 'nam'. Did you mean 'name'?
            E root tsc TS2741 src/math.ts:15:14 compile_error L3-3 Property 'y' is missing in type '{ x: number; }' but required in type 'Point'.
        "#]],
    );
}

#[test]
fn tsc_type_errors_pretty() {
    check(
        "tsc/type_errors_pretty.log",
        expect![[r#"
            category: compile_error
            E root tsc TS2322 src/math.ts:6:9 compile_error L1-1 Type 'string' is not assignable to type 'number'.
            E root tsc TS2552 src/math.ts:7:21 compile_error L6-6 Cannot find name 'nam'. Did you mean 'name'?
            E root tsc TS2741 src/math.ts:15:14 compile_error L15-15 Property 'y' is missing in type '{ x: number; }' but required in type 'Point'.
        "#]],
    );
}

#[test]
fn tsc_syntax_error() {
    check(
        "tsc/syntax_error.log",
        expect![[r#"
            category: syntax_error
            E root tsc TS1005 src/bad_syntax.ts:2:10 syntax_error L1-1 ':' expected.
            E root tsc TS1005 src/bad_syntax.ts:4:1 syntax_error L3-3 ')' expected.
        "#]],
    );
}

#[test]
fn eslint_stylish() {
    check(
        "eslint/stylish.log",
        expect![[r#"
            category: lint
            E root eslint no-unused-vars /tmp/cap/node/lib/calc.js:2:9 lint L3-3 'unused' is assigned a value but never used
            W cascade eslint no-console /tmp/cap/node/lib/calc.js:8:5 lint L4-4 Unexpected console statement
            E root eslint no-undef /tmp/cap/node/lib/calc.js:10:21 lint L5-5 'txt' is not defined
            E cascade eslint - - lint L7-7 ✖ 3 problems (2 errors, 1 warning)
        "#]],
    );
}

#[test]
fn jest_failures() {
    check(
        "jest/failures.log",
        expect![[r#"
            category: test_failure
            E root jest - test/calc.test.js:9:23 test_failure L8-23 calc › adds wrong: expect(received).toBe(expected) // Object.is equality
            E root jest - lib/calc.js:10:21 test_failure L25-37 calc › parses: ReferenceError: txt is not defined
            E cascade tests - - test_failure L40-40 Test Suites: 1 failed, 1 total
            E cascade tests - - test_failure L41-41 Tests:       2 failed, 1 skipped, 1 passed, 4 total
            test passed calc › adds @ test/calc.test.js
            test FAILED calc › adds wrong @ test/calc.test.js:9 | expect(received).toBe(expected) // Object.is equality
            test FAILED calc › parses @ lib/calc.js:10 | ReferenceError: txt is not defined
            test skipped calc › later @ test/calc.test.js
        "#]],
    );
}

#[test]
fn vitest_failures() {
    check(
        "vitest/failures.log",
        expect![[r#"
            category: test_failure
            E root vitest - vt/calc.test.ts:10:23 test_failure L12-21 vt/calc.test.ts > calc > adds wrong: AssertionError: expected 5 to be 6 // Object.is equality
            E root vitest - vt/calc.test.ts:15:24 test_failure L31-33 vt/calc.test.ts > calc > throws: TypeError: Cannot read properties of undefined (reading 'length')
            E cascade tests - - test_failure L44-44 Test Files  1 failed (1)
            E cascade tests - - test_failure L45-45 Tests  2 failed | 1 passed | 1 skipped (4)
            test passed vt/calc.test.ts > adds @ vt/calc.test.ts
            test skipped vt/calc.test.ts > later @ vt/calc.test.ts
            test FAILED vt/calc.test.ts > calc > adds wrong @ vt/calc.test.ts:10 | AssertionError: expected 5 to be 6 // Object.is equality
            test FAILED vt/calc.test.ts > calc > throws @ vt/calc.test.ts:15 | TypeError: Cannot read properties of undefined (reading 'length')
        "#]],
    );
}

#[test]
fn npm_test_script_fails() {
    check(
        "npm/test_script_fails.log",
        expect![[r#"
            category: test_failure
            E root jest - test/calc.test.js:9:23 test_failure L12-27 calc › adds wrong: expect(received).toBe(expected) // Object.is equality
            E root jest - lib/calc.js:10:21 test_failure L29-41 calc › parses: ReferenceError: txt is not defined
            E cascade tests - - test_failure L44-44 Test Suites: 1 failed, 1 total
            E cascade tests - - test_failure L45-45 Tests:       2 failed, 1 skipped, 1 passed, 4 total
            test passed calc › adds @ test/calc.test.js
            test FAILED calc › adds wrong @ test/calc.test.js:9 | expect(received).toBe(expected) // Object.is equality
            test FAILED calc › parses @ lib/calc.js:10 | ReferenceError: txt is not defined
            test skipped calc › later @ test/calc.test.js
        "#]],
    );
}

#[test]
fn npm_missing_script() {
    check(
        "npm/missing_script.log",
        expect![[r#"
            category: config_error
            E root npm - - config_error L1-5 Missing script: "build"
        "#]],
    );
}

#[test]
fn npm_ci_without_lockfile() {
    check(
        "npm/ci_without_lockfile.log",
        expect![[r#"
            category: config_error
            E root npm EUSAGE - config_error L1-16 The `npm ci` command can only install with an existing package-lock.json or
        "#]],
    );
}

#[test]
fn maven_offline_plugin_resolution() {
    check(
        "maven/offline_plugin_resolution.log",
        expect![[r#"
            category: network
            E root network - - network L13-13 [ERROR] Plugin org.apache.maven.plugins:maven-resources-plugin:2.6 or one of its dependencies could not be resolved: Failed to read artifact descriptor for org.apache.maven.plugins:maven-resources-plugin:jar:2.6: Could not transfer artifact org.apache.maven.plugins:maven-resources-plugin:pom:2.6 from/to central (https://repo.maven.apache.org/maven2): transfer failed for https://repo.maven.apache.org/maven2/org/apache/maven/plugins/maven-resources-plugin/2.6/maven-resources-plugin-2.6.pom: Unknow…
        "#]],
    );
}

/// npm 6's blocks after a failed script, as Travis CI logs show them: they
/// point at the script's own output and at a debug log, and are no cause.
#[test]
fn npm_6_lifecycle_blocks_are_a_cascade() {
    let log = "> x@1.0.0 test /home/travis/build/x\n> mocha\n\nnpm ERR! code ELIFECYCLE\nnpm ERR! errno 1\nnpm ERR! x@1.0.0 test: `mocha`\nnpm ERR! Exit status 1\nnpm ERR! \nnpm ERR! Failed at the x@1.0.0 test script.\n\nnpm ERR! A complete log of this run can be found in:\nnpm ERR!     /home/travis/.npm/_logs/2019-07-31T12_04_15_647Z-debug.log\nnpm ERR! Test failed.  See above for more details.\n";
    let diagnosis = crate::diagnose(log);
    assert!(
        diagnosis
            .diagnostics
            .iter()
            .all(|d| d.tool != "npm" || !d.root_cause),
        "{}",
        crate::render(&diagnosis)
    );
}
