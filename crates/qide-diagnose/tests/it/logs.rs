//! Snapshot tests over the captured logs, one per tool and case.

use expect_test::expect;

use crate::check;

#[test]
fn rustc_type_errors() {
    check(
        "rustc/type_errors.log",
        expect![[r#"
        category: compile_error
        E root rustc E0432 src/lib.rs:1:5 compile_error L2-12 unresolved import `std::collections::HashMapp`
        E root rustc E0308 src/lib.rs:5:21 compile_error L14-25 mismatched types
        E root rustc E0308 src/lib.rs:6:5 compile_error L27-34 mismatched types
        E root rustc E0308 src/lib.rs:10:5 compile_error L36-42 mismatched types
        E cascade cargo - - compile_error L46-46 could not compile `rs1` (lib) due to 4 previous errors
    "#]],
    );
}

#[test]
fn rustc_type_errors_in_colour_read_like_plain() {
    check(
        "rustc/type_errors_color.log",
        expect![[r#"
        category: compile_error
        E root rustc E0432 src/lib.rs:1:5 compile_error L2-12 unresolved import `std::collections::HashMapp`
        E root rustc E0308 src/lib.rs:5:21 compile_error L14-25 mismatched types
        E root rustc E0308 src/lib.rs:6:5 compile_error L27-34 mismatched types
        E root rustc E0308 src/lib.rs:10:5 compile_error L36-42 mismatched types
        E cascade cargo - - compile_error L46-46 could not compile `rs1` (lib) due to 4 previous errors
    "#]],
    );
}

#[test]
fn rustc_syntax_error() {
    check(
        "rustc/syntax_error.log",
        expect![[r#"
        category: syntax_error
        E root rustc - src/lib.rs:2:19 syntax_error L2-6 expected expression, found `;`
        E cascade cargo - - compile_error L8-8 could not compile `rs2` (lib) due to 1 previous error
    "#]],
    );
}

#[test]
fn rustc_missing_crate() {
    check(
        "rustc/missing_crate.log",
        expect![[r#"
        category: missing_dependency
        E root rustc E0463 src/lib.rs:2:1 missing_dependency L2-6 can't find crate for `foobar_nope`
        E root rustc E0432 src/lib.rs:1:5 missing_dependency L8-14 unresolved import `serde_json`
        E cascade cargo - - compile_error L18-18 could not compile `rs3` (lib) due to 2 previous errors
    "#]],
    );
}

#[test]
fn rustc_warnings_only_is_not_a_failure() {
    check(
        "rustc/warnings_only.log",
        expect![[r#"
        category: none
        W cascade rustc unused_variables src/lib.rs:2:9 lint L2-8 unused variable: `unused`
        W cascade rustc dead_code src/lib.rs:6:4 lint L10-16 function `dead` is never used
    "#]],
    );
}

#[test]
fn clippy_warnings() {
    check(
        "rustc/clippy.log",
        expect![[r#"
        category: none
        W cascade clippy clippy::len_zero src/lib.rs:3:8 lint L2-9 length comparison to zero
        W cascade clippy clippy::useless_vec src/lib.rs:2:13 lint L11-18 useless use of `vec!`
    "#]],
    );
}

#[test]
fn cargo_test_failures_with_backtrace() {
    check(
        "cargo_test/failures.log",
        expect![[r#"
        category: test_failure
        E root libtest - src/lib.rs:22:9 test_failure L14-37 tests::it_fails: assertion `left == right` failed: math is broken
        E root libtest - src/lib.rs:7:26 test_failure L39-62 tests::parse_panics: called `Result::unwrap()` on an `Err` value: ParseIntError { kind: InvalidDigit }
        E root libtest - - test_failure L64-65 tests::result_err: Error: "nope"
        E cascade libtest - - test_failure L73-73 test result: FAILED. 1 passed; 3 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.13s
        E cascade cargo - - test_failure L75-75 test failed, to rerun pass `--lib`
        test passed tests::it_works
        test FAILED tests::it_fails @ src/lib.rs:22 | assertion `left == right` failed: math is broken
        test FAILED tests::parse_panics @ src/lib.rs:7 | called `Result::unwrap()` on an `Err` value: ParseIntError { kind: InvalidDigit }
        test skipped tests::slow
        test FAILED tests::result_err | Error: "nope"
    "#]],
    );
}

#[test]
fn cargo_test_no_fail_fast() {
    check(
        "cargo_test/no_fail_fast.log",
        expect![[r#"
        category: test_failure
        E root libtest - src/lib.rs:22:9 test_failure L14-20 tests::it_fails: assertion `left == right` failed: math is broken
        E root libtest - - test_failure L22-23 tests::result_err: Error: "nope"
        E root libtest - src/lib.rs:7:26 test_failure L25-28 tests::parse_panics: called `Result::unwrap()` on an `Err` value: ParseIntError { kind: InvalidDigit }
        E cascade libtest - - test_failure L36-36 test result: FAILED. 1 passed; 3 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.00s
        E cascade cargo - - test_failure L38-38 test failed, to rerun pass `--lib`
        E root libtest - tests/integ.rs:4:18 test_failure L47-51 integ_bad: boom at 3735928559
        E cascade cargo - - test_failure L59-59 test failed, to rerun pass `--test integ`
        E cascade cargo - - test_failure L66-66 2 targets failed:
        test FAILED tests::it_fails @ src/lib.rs:22 | assertion `left == right` failed: math is broken
        test passed tests::it_works
        test FAILED tests::result_err | Error: "nope"
        test skipped tests::slow
        test FAILED tests::parse_panics @ src/lib.rs:7 | called `Result::unwrap()` on an `Err` value: ParseIntError { kind: InvalidDigit }
        test passed integ_ok
        test FAILED integ_bad @ tests/integ.rs:4 | boom at 3735928559
    "#]],
    );
}

/// Two crates of a workspace each have `tests::it_works`: one fails, the
/// other passes. They are two tests, and the failure is not lost.
#[test]
fn cargo_test_same_name_in_two_crates() {
    check(
        "cargo_test/same_name_two_crates.log",
        expect![[r#"
            category: test_failure
            E root libtest - alpha/src/lib.rs:7:9 test_failure L11-34 tests::it_works: assertion `left == right` failed
            E cascade libtest - - test_failure L40-40 test result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.07s
            E cascade cargo - - test_failure L42-42 test failed, to rerun pass `-p alpha --lib`
            E cascade cargo - - test_failure L62-62 1 target failed:
            test FAILED tests::it_works @ alpha/src/lib.rs:7 | assertion `left == right` failed
            test passed tests::it_works
        "#]],
    );
}

/// A failed test's verdict line, thirty lines before its failure section,
/// is the test's, not another root cause.
#[test]
fn cargo_test_failed_line_far_from_its_section() {
    check(
        "cargo_test/failed_line_far_from_its_section.log",
        expect![[r#"
        category: test_failure
        E root libtest - alpha/src/lib.rs:8:21 test_failure L39-45 tests::check_01: assertion `left == right` failed
        E cascade libtest - - test_failure L51-51 test result: FAILED. 29 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s
        E cascade cargo - - test_failure L53-53 test failed, to rerun pass `-p alpha --lib`
        test FAILED tests::check_01 @ alpha/src/lib.rs:8 | assertion `left == right` failed
        test passed tests::check_02
        test passed tests::check_03
        test passed tests::check_04
        test passed tests::check_05
        test passed tests::check_06
        test passed tests::check_07
        test passed tests::check_08
        test passed tests::check_09
        test passed tests::check_10
        test passed tests::check_11
        test passed tests::check_12
        test passed tests::check_13
        test passed tests::check_14
        test passed tests::check_15
        test passed tests::check_16
        test passed tests::check_17
        test passed tests::check_18
        test passed tests::check_19
        test passed tests::check_20
        test passed tests::check_21
        test passed tests::check_22
        test passed tests::check_23
        test passed tests::check_24
        test passed tests::check_25
        test passed tests::check_26
        test passed tests::check_27
        test passed tests::check_28
        test passed tests::check_29
        test passed tests::check_30
    "#]],
    );
}

#[test]
fn gcc_errors() {
    check(
        "gcc/errors.log",
        expect![[r#"
        category: syntax_error
        W cascade gcc -Wint-conversion main.c:6:15 lint L1-4 initialization of ‘char *’ from ‘int’ makes pointer from integer without a cast
        E root gcc - main.c:7:12 compile_error L5-8 ‘undefined_var’ undeclared (first use in this function)
        W cascade gcc -Wunused-variable main.c:6:11 lint L9-11 unused variable ‘p’
        W cascade gcc -Wunused-variable main.c:5:9 lint L12-14 unused variable ‘unused’
        E root gcc - main.c:11:31 syntax_error L15-21 expected ‘;’ before ‘return’
        W cascade gcc -Wreturn-type main.c:8:1 lint L22-25 control reaches end of non-void function
    "#]],
    );
}

#[test]
fn gcc_errors_in_colour() {
    check(
        "gcc/errors_color.log",
        expect![[r#"
        category: syntax_error
        W cascade gcc -Wint-conversion main.c:6:15 lint L1-4 initialization of ‘char *’ from ‘int’ makes pointer from integer without a cast
        E root gcc - main.c:7:12 compile_error L5-8 ‘undefined_var’ undeclared (first use in this function)
        W cascade gcc -Wunused-variable main.c:6:11 lint L9-11 unused variable ‘p’
        W cascade gcc -Wunused-variable main.c:5:9 lint L12-14 unused variable ‘unused’
        E root gcc - main.c:11:31 syntax_error L15-21 expected ‘;’ before ‘return’
        W cascade gcc -Wreturn-type main.c:8:1 lint L22-25 control reaches end of non-void function
    "#]],
    );
}

#[test]
fn gcc_link_error() {
    check(
        "gcc/link_error.log",
        expect![[r#"
        category: compile_error
        E root ld - link.c compile_error L2-2 undefined reference to `helper'
        E cascade ld - - compile_error L3-3 collect2: error: ld returned 1 exit status
    "#]],
    );
}

#[test]
fn gxx_template_error() {
    check(
        "gcc/cpp_template.log",
        expect![[r#"
        category: compile_error
        E root gcc - cpp.cpp:3:68 compile_error L1-5 request for member ‘size’ in ‘((const Box<int>*)this)->Box<int>::v’, which is of non-class type ‘const int’
    "#]],
    );
}

#[test]
fn make_with_gcc() {
    check(
        "make/gcc_make.log",
        expect![[r#"
        category: missing_dependency
        W cascade gcc -Wint-conversion main.c:6:15 lint L2-5 initialization of ‘char *’ from ‘int’ makes pointer from integer without a cast
        E root gcc - main.c:7:12 compile_error L6-9 ‘undefined_var’ undeclared (first use in this function)
        W cascade gcc -Wunused-variable main.c:6:11 lint L10-12 unused variable ‘p’
        W cascade gcc -Wunused-variable main.c:5:9 lint L13-15 unused variable ‘unused’
        E root gcc - main.c:11:31 syntax_error L16-22 expected ‘;’ before ‘return’
        W cascade gcc -Wreturn-type main.c:8:1 lint L23-26 control reaches end of non-void function
        E cascade make - - unknown L27-27 [<builtin>: main.o] Error 1
        E root gcc - missing.c:1:10 missing_dependency L29-32 nothere.h: No such file or directory
        E cascade make - - unknown L33-33 [<builtin>: missing.o] Error 1
    "#]],
    );
}

#[test]
fn python_traceback_into_stdlib() {
    check(
        "python/traceback_stdlib.log",
        expect![[r#"
        category: crash
        E root python json.decoder.JSONDecodeError /tmp/caps/py1/app/core.py:5 crash L1-19 json.decoder.JSONDecodeError: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)
    "#]],
    );
}

#[test]
fn python_zero_division() {
    check(
        "python/zero_division.log",
        expect![[r#"
        category: crash
        E root python ZeroDivisionError /tmp/caps/py1/app/core.py:9 crash L1-8 ZeroDivisionError: division by zero
    "#]],
    );
}

#[test]
fn python_syntax_error() {
    check(
        "python/syntax_error.log",
        expect![[r#"
        category: syntax_error
        E root python SyntaxError /tmp/caps/py1/bad_syntax.py:2 syntax_error L1-4 SyntaxError: invalid syntax
    "#]],
    );
}

#[test]
fn python_module_not_found() {
    check(
        "python/module_not_found.log",
        expect![[r#"
        category: missing_dependency
        E root python ModuleNotFoundError /tmp/caps/py1/missing_mod.py:1 missing_dependency L1-4 ModuleNotFoundError: No module named 'requests_nope'
    "#]],
    );
}

#[test]
fn pytest_failures() {
    check(
        "pytest/failures.log",
        expect![[r#"
        category: test_failure
        E root pytest - tests/test_core.py:10 test_failure L9-16 tests/test_core.py::test_ratio: assert 2.0 == 3
        E root pytest - app/core.py:5 test_failure L17-51 tests/test_core.py::test_parse_bad: json.decoder.JSONDecodeError: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)
        E root pytest - tests/test_core.py:23 test_failure L52-63 tests/test_core.py::test_dict_eq: AssertionError: assert {'a': 1, 'b': 2} == {'a': 1, 'b': 3}
        E cascade pytest - - test_failure L68-68 3 failed, 1 passed, 1 skipped in 0.04s
        test FAILED tests/test_core.py::test_ratio @ tests/test_core.py:10 | assert 2.0 == 3
        test FAILED tests/test_core.py::test_parse_bad @ app/core.py:5 | json.decoder.JSONDecodeError: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)
        test FAILED tests/test_core.py::test_dict_eq @ tests/test_core.py:23 | AssertionError: assert {'a': 1, 'b': 2} == {'a': 1, 'b': 3}
    "#]],
    );
}

#[test]
fn pytest_quiet() {
    check(
        "pytest/quiet.log",
        expect![[r#"
        category: test_failure
        E root pytest - tests/test_core.py:10 test_failure L3-10 tests/test_core.py::test_ratio: assert 2.0 == 3
        E root pytest - app/core.py:5 test_failure L11-45 tests/test_core.py::test_parse_bad: json.decoder.JSONDecodeError: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)
        E root pytest - tests/test_core.py:23 test_failure L46-57 tests/test_core.py::test_dict_eq: AssertionError: assert {'a': 1, 'b': 2} == {'a': 1, 'b': 3}
        E cascade pytest - - test_failure L62-62 3 failed, 1 passed, 1 skipped in 0.04s
        test FAILED tests/test_core.py::test_ratio @ tests/test_core.py:10 | assert 2.0 == 3
        test FAILED tests/test_core.py::test_parse_bad @ app/core.py:5 | json.decoder.JSONDecodeError: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)
        test FAILED tests/test_core.py::test_dict_eq @ tests/test_core.py:23 | AssertionError: assert {'a': 1, 'b': 2} == {'a': 1, 'b': 3}
    "#]],
    );
}

#[test]
fn pytest_verbose_short_tracebacks() {
    check(
        "pytest/verbose_short.log",
        expect![[r#"
        category: test_failure
        E root pytest - tests/test_core.py:10 test_failure L14-18 tests/test_core.py::test_ratio: assert 2.0 == 3
        E root pytest - app/core.py:5 test_failure L19-34 tests/test_core.py::test_parse_bad: json.decoder.JSONDecodeError: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)
        E root pytest - tests/test_core.py:23 test_failure L35-47 tests/test_core.py::test_dict_eq: AssertionError: assert {'a': 1, 'b': 2} == {'a': 1, 'b': 3}
        E cascade pytest - - test_failure L52-52 3 failed, 1 passed, 1 skipped in 0.03s
        test passed tests/test_core.py::test_parse_ok @ tests/test_core.py
        test FAILED tests/test_core.py::test_ratio @ tests/test_core.py:10 | assert 2.0 == 3
        test FAILED tests/test_core.py::test_parse_bad @ app/core.py:5 | json.decoder.JSONDecodeError: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)
        test skipped tests/test_core.py::test_skipped @ tests/test_core.py
        test FAILED tests/test_core.py::test_dict_eq @ tests/test_core.py:23 | AssertionError: assert {'a': 1, 'b': 2} == {'a': 1, 'b': 3}
    "#]],
    );
}

#[test]
fn pytest_collection_errors() {
    check(
        "pytest/collection_error.log",
        expect![[r#"
        category: missing_dependency
        E root pytest - tests/test_core.py:2 missing_dependency L7-16 error collecting tests/test_core.py: ModuleNotFoundError: No module named 'app'
        E root pytest - tests/test_import.py:1 missing_dependency L17-26 error collecting tests/test_import.py: ModuleNotFoundError: No module named 'not_installed_pkg'
        E cascade pytest - - test_failure L31-31 2 errors in 0.18s
    "#]],
    );
}

/// SwiftLint in strict mode fails on a warning and prints no error: with
/// nothing else to explain the failure, the warning is its root cause
/// (SwiftLint's documented form; it does not run here).
#[test]
fn strict_lint_warnings_explain_a_failure_documented() {
    check(
        "swiftlint/strict.log",
        expect![[r#"
        category: lint
        E root swiftc - /Users/ci/App/Tests/SwiftPermissionsTests.swift:156:13 lint L4-4 Redundant Discardable Let Violation: Prefer `_ = foo()` over `let _ = foo()` when discarding a result from a function. (redundant_discardable_let)
        E root generic - - unknown L5-9 The command "swiftlint lint --strict" exited with 3.
    "#]],
    );
}

/// With more warnings than that, only the last few are blamed, so a log
/// full of them cannot crowd the packet.
#[test]
fn only_the_last_warnings_explain_a_failure() {
    check(
        "generic/rubocop_offenses.log",
        expect![[r#"
        category: lint
        W cascade generic - src/m1.rb:1:1 lint L1-1 Lint/UselessAssignment: Useless assignment to variable - x1.
        W cascade generic - src/m2.rb:2:1 lint L2-2 Lint/UselessAssignment: Useless assignment to variable - x2.
        W cascade generic - src/m3.rb:3:1 lint L3-3 Lint/UselessAssignment: Useless assignment to variable - x3.
        E root generic - src/m4.rb:4:1 lint L4-4 Lint/UselessAssignment: Useless assignment to variable - x4.
        E root generic - src/m5.rb:5:1 lint L5-5 Lint/UselessAssignment: Useless assignment to variable - x5.
        E root generic - src/m6.rb:6:1 lint L6-6 Lint/UselessAssignment: Useless assignment to variable - x6.
        E root generic - - unknown L6-11 The command "bundle exec rubocop" exited with 1.
        E root generic - src/m7.rb:7:1 lint L7-7 Lint/UselessAssignment: Useless assignment to variable - x7.
        E root generic - src/m8.rb:8:1 lint L8-8 Lint/UselessAssignment: Useless assignment to variable - x8.
    "#]],
    );
}

/// A real gcc warning from a step that exited 0 is not why a later step
/// failed.
#[test]
fn warnings_of_a_passed_step_are_not_blamed() {
    check(
        "gcc/warning_then_unexplained.log",
        expect![[r#"
        category: unknown
        W cascade gcc -Wunused-variable w2.c:1:22 lint L2-5 unused variable ‘unused’
        E root generic - - unknown L4-11 fixtures differ: expected 3 files, found 2
    "#]],
    );
}

#[test]
fn javac_warnings_under_werror() {
    check(
        "javac/werror.log",
        expect![[r#"
        category: lint
        E root javac - W.java:4 lint L1-6 [rawtypes] found raw type: List
        E root javac - W.java:4 lint L7-12 [rawtypes] found raw type: ArrayList
        E root javac - W.java:5 lint L13-17 [unchecked] unchecked call to add(E) as a member of the raw type List
        E cascade generic - - lint L18-18 error: warnings found and -Werror specified
    "#]],
    );
}

#[test]
fn gcc_werror() {
    check(
        "gcc/werror.log",
        expect![[r#"
        category: compile_error
        E root gcc -Werror=unused-variable w.c:1:22 compile_error L1-4 unused variable ‘unused’
    "#]],
    );
}

/// GHC's documented form (GHC does not run here): `-Werror` turns the
/// module's warnings into the failure.
#[test]
fn ghc_warnings_under_werror_documented() {
    check(
        "ghc/werror.log",
        expect![[r#"
        category: lint
        E root ghc - src/Text/Pandoc/Ipynb.hs:94:10 lint L4-7 No explicit implementation for
        E cascade generic - - lint L10-10 Failing due to -Werror.
        W cascade ghc -Wunused-imports src/Text/Pandoc/Slides.hs:40:1 lint L13-17 The import of ‘Data.List’ is redundant
    "#]],
    );
}

#[test]
fn javac_errors() {
    check(
        "javac/errors.log",
        expect![[r#"
        category: missing_dependency
        E root javac - Main.java:1 missing_dependency L1-1 package org.nope does not exist
        E root javac - Main.java:4 compile_error L4-6 incompatible types: String cannot be converted to int
        E root javac - Main.java:5 compile_error L7-11 cannot find symbol
    "#]],
    );
}

#[test]
fn flake8_lints() {
    check(
        "flake8/errors.log",
        expect![[r#"
        category: lint
        E root flake8 F401 lintme.py:1:1 lint L1-1 'os' imported but unused
        E root flake8 F401 lintme.py:2:1 lint L2-2 'sys' imported but unused
        E root flake8 E302 lintme.py:4:1 lint L3-3 expected 2 blank lines, found 1
        E root flake8 E305 lintme.py:7:1 lint L4-4 expected 2 blank lines after class or function definition, found 1
        E root flake8 F821 lintme.py:7:7 lint L5-5 undefined name 'undefined_name'
    "#]],
    );
}

#[test]
fn mypy_errors() {
    check(
        "mypy/errors.log",
        expect![[r#"
        category: compile_error
        E root mypy return-value lintme.py:5 compile_error L1-1 Incompatible return value type (got "int", expected "str")
        E root mypy name-defined lintme.py:7 compile_error L2-2 Name "undefined_name" is not defined
    "#]],
    );
}

#[test]
fn go_test_failures_with_subtests() {
    check(
        "go/test_failures.log",
        expect![[r#"
        category: test_failure
        E root go - add_test.go:9 test_failure L1-2 TestAdd: Add(2, 2) = 5, want 4
        E cascade go - - test_failure L3-3 TestTable failed
        E root go - add_test.go:21 test_failure L4-5 TestTable/negative: Add(-1, -1) = -3, want -2
        E cascade go - - test_failure L8-8 FAIL example.com/calc 0.002s
        test FAILED TestAdd @ add_test.go:9 | Add(2, 2) = 5, want 4
        test FAILED TestTable
        test FAILED TestTable/negative @ add_test.go:21 | Add(-1, -1) = -3, want -2
        test passed TestSub
    "#]],
    );
}

#[test]
fn go_build_errors() {
    check(
        "go/build_errors.log",
        expect![[r#"
        category: missing_dependency
        E root go - calc.go:5:9 compile_error L2-2 undefined: foo
        E root go - calc.go:8:2 compile_error L3-3 declared and not used: x
        E root go - main.go:3:8 missing_dependency L4-5 no required module provides package github.com/nope/x; to add it:
    "#]],
    );
}

/// Go's flag package refusing a flag, in its documented form (Go is not
/// on this machine): the program never ran.
#[test]
fn go_flag_not_defined_documented() {
    check(
        "infra/go_flag.log",
        expect![[r#"
        category: config_error
        E root go - - config_error L2-2 flag provided but not defined: -trace2_event_file
        E root generic - - unknown L3-9 The command "ci/run-build-and-tests.sh" exited with 2.
    "#]],
    );
}

#[test]
fn shell_oom_kill_and_missing_commands() {
    check(
        "infra/shell.log",
        expect![[r#"
        category: out_of_memory
        E root system - - out_of_memory L2-2 bash: line 1: 19354 Killed                  sleep 5
        E root shell - - config_error L3-3 bash: line 1: nonexistent_tool_zz: command not found
        E root shell - - config_error L4-4 sh: 1: nonexistent_tool_zz: not found
    "#]],
    );
}

#[test]
fn segfault() {
    check(
        "infra/segfault.log",
        expect![[r#"
        category: crash
        E root system - - crash L1-1 bash: line 1: 19363 Segmentation fault      ./segv
    "#]],
    );
}

#[test]
fn disk_full() {
    check(
        "infra/disk_full.log",
        expect![[r#"
        category: infrastructure
        E root system - - infrastructure L1-1 dd: error writing '/dev/full': No space left on device
    "#]],
    );
}

#[test]
fn dns_and_refused_connections() {
    check(
        "infra/dns.log",
        expect![[r#"
        category: network
        E root network - - network L1-1 curl: (6) Could not resolve host: nonexistent.invalid
        E root network - - network L2-2 curl: (7) Failed to connect to 127.0.0.1 port 1 after 0 ms: Couldn't connect to server
    "#]],
    );
}

#[test]
fn python_memory_error() {
    check(
        "infra/python_memory.log",
        expect![[r#"
        category: out_of_memory
        E root python MemoryError <string>:1 out_of_memory L1-3 MemoryError
    "#]],
    );
}

#[test]
fn cargo_registry_unreachable() {
    check(
        "infra/cargo_dns.log",
        expect![[r#"
        category: network
        E root cargo - - missing_dependency L2-2 failed to get `serde` as a dependency of package `rs6 v0.1.0 (/tmp/caps/rs6)`
        E root network - - network L14-14 [6] Could not resolve hostname (Could not resolve host: nonexistent.invalid)
    "#]],
    );
}

#[test]
fn node_uncaught_type_error() {
    check(
        "node/type_error.log",
        expect![[r#"
        category: crash
        E root runtime TypeError /tmp/nodecap/app.js:2 crash L6-13 TypeError: Cannot read properties of undefined (reading 'port')
    "#]],
    );
}

#[test]
fn node_missing_module() {
    check(
        "node/missing_module.log",
        expect![[r#"
        category: missing_dependency
        E root runtime Error - missing_dependency L5-12 Error: Cannot find module 'left-pad-nope'
    "#]],
    );
}

#[test]
fn java_uncaught_exception() {
    check(
        "java/exception.log",
        expect![[r#"
        category: crash
        E root runtime java.lang.ArrayIndexOutOfBoundsException App.java:2 crash L2-4 java.lang.ArrayIndexOutOfBoundsException: Index 3 out of bounds for length 2
    "#]],
    );
}

#[test]
fn rspec_failures() {
    check(
        "runners/rspec.log",
        expect![[r#"
        category: test_failure
        E root tests - spec/calculator_spec.rb:6 test_failure L6-13 Calculator#add returns the sum
    "#]],
    );
}

#[test]
fn phpunit_failures() {
    check(
        "runners/phpunit.log",
        expect![[r#"
        category: test_failure
        E root tests - /home/ci/project/tests/CalculatorTest.php:12 test_failure L9-12 CalculatorTest::testAdd
    "#]],
    );
}

#[test]
fn exunit_failures() {
    check(
        "runners/exunit.log",
        expect![[r#"
        category: test_failure
        E root tests - test/calculator_test.exs:5 test_failure L3-10 test add/2 returns the sum (CalculatorTest)
    "#]],
    );
}

#[test]
fn mocha_failures() {
    check(
        "runners/mocha.log",
        expect![[r#"
        category: test_failure
        E root tests - - test_failure L11-18 Calculator
    "#]],
    );
}

#[test]
fn surefire_failures() {
    check(
        "runners/surefire.log",
        expect![[r#"
        category: test_failure
        E root surefire - Assert.java:89 test_failure L6-9 testAdd(com.example.CalculatorTest) failure
    "#]],
    );
}

#[test]
fn scalatest_failures() {
    check(
        "runners/scalatest.log",
        expect![[r#"
        category: test_failure
        E root scalatest - - test_failure L5-5 divides by zero failed
        test FAILED divides by zero
    "#]],
    );
}

#[test]
fn unknown_tool_falls_back_to_error_looking_lines() {
    check(
        "generic/tar_missing.log",
        expect![[r#"
            category: missing_dependency
            E root generic - - missing_dependency L1-5 tar: /tmp/missing-fixtures.tar: Cannot open: No such file or directory
        "#]],
    );
}

// Seeded failures (bench/seeded.sh): logs the benchmark found misread.

#[test]
fn cargo_test_doctest_that_does_not_compile_points_at_the_compiler_error() {
    check(
        "cargo_test/doctest_compile_error.log",
        expect![[r#"
        category: test_failure
        W cascade generic - - lint L1-1 /tmp/seeded/fnv-1.0.7/Cargo.toml: no edition set: defaulting to the 2015 edition while the latest is 2024
        E root libtest - lib.rs:34:36 test_failure L19-30 lib.rs - (line 30): error: expected `;`, found `map`
        E cascade libtest - - test_failure L35-35 test result: FAILED. 1 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.21s
        E root cargo - - unknown L37-37 doctest failed, to rerun pass `--doc`
        test passed test::basic_tests
        test FAILED lib.rs - (line 30) @ lib.rs:34 | error: expected `;`, found `map`
        test passed lib.rs - (line 51)
    "#]],
    );
}

#[test]
fn pytest_syntax_error_in_an_imported_module_points_at_the_bad_line() {
    check(
        "pytest/collection_syntax_error.log",
        expect![[r#"
        category: syntax_error
        E root pytest - /tmp/seeded/six-1.17.0/six.py:810 syntax_error L8-31 error collecting test_six.py: SyntaxError: expected ':'
        E cascade pytest - - test_failure L35-35 1 error in 0.54s
    "#]],
    );
}

#[test]
fn pytest_syntax_error_in_the_test_module_points_at_the_bad_line() {
    check(
        "pytest/collection_syntax_error_in_test_module.log",
        expect![[r#"
            category: syntax_error
            E root pytest - /tmp/seeded/six-1.17.0/test_six.py:925 syntax_error L8-35 error collecting test_six.py: SyntaxError: expected ':'
            E cascade pytest - - test_failure L39-39 1 error in 0.34s
        "#]],
    );
}
