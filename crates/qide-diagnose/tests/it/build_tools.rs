//! Snapshot tests over logs of Python unittest, CMake, clang, ruff, pip and
//! Gradle: real output captured from small broken projects, except the
//! Gradle logs and one macOS linker log, written after the documented
//! format (see the README.md beside them).

use expect_test::expect;

use crate::{check, diagnose, read_log, render, root_fingerprints};

#[test]
fn unittest_verbose() {
    check(
        "unittest/verbose.log",
        expect![[r#"
            category: test_failure
            E root unittest - /tmp/caps/ut/calc/core.py:9 test_failure L11-29 tests.test_core.ParseTest.test_parse_bad: json.decoder.JSONDecodeError: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)
            E root unittest - /tmp/caps/ut/calc/core.py:5 test_failure L32-40 tests.test_core.RatioTest.test_ratio_zero: ZeroDivisionError: division by zero
            E root unittest - /tmp/caps/ut/tests/test_core.py:33 test_failure L43-53 tests.test_core.ParseTest.test_dict_eq: AssertionError: {'a': 1, 'b': 2} != {'a': 1, 'b': 3}
            E root unittest - /tmp/caps/ut/tests/test_core.py:11 test_failure L57-62 tests.test_core.RatioTest.test_ratio_wrong: AssertionError: 3.0 != 4
            E cascade unittest - - test_failure L67-67 FAILED (failures=2, errors=2, skipped=1, expected failures=1)
            test FAILED tests.test_core.ParseTest.test_dict_eq @ /tmp/caps/ut/tests/test_core.py:33 | AssertionError: {'a': 1, 'b': 2} != {'a': 1, 'b': 3}
            test passed tests.test_core.ParseTest.test_known_bug
            test FAILED tests.test_core.ParseTest.test_parse_bad @ /tmp/caps/ut/calc/core.py:9 | json.decoder.JSONDecodeError: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)
            test passed tests.test_core.ParseTest.test_parse_ok
            test passed tests.test_core.RatioTest.test_ratio_ok
            test FAILED tests.test_core.RatioTest.test_ratio_wrong @ /tmp/caps/ut/tests/test_core.py:11 | AssertionError: 3.0 != 4
            test FAILED tests.test_core.RatioTest.test_ratio_zero @ /tmp/caps/ut/calc/core.py:5 | ZeroDivisionError: division by zero
            test skipped tests.test_core.RatioTest.test_remote
        "#]],
    );
}

#[test]
fn unittest_quiet() {
    check(
        "unittest/quiet.log",
        expect![[r#"
            category: test_failure
            E root unittest - /tmp/caps/ut/calc/core.py:9 test_failure L3-21 tests.test_core.ParseTest.test_parse_bad: json.decoder.JSONDecodeError: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)
            E root unittest - /tmp/caps/ut/calc/core.py:5 test_failure L24-32 tests.test_core.RatioTest.test_ratio_zero: ZeroDivisionError: division by zero
            E root unittest - /tmp/caps/ut/tests/test_core.py:33 test_failure L35-45 tests.test_core.ParseTest.test_dict_eq: AssertionError: {'a': 1, 'b': 2} != {'a': 1, 'b': 3}
            E root unittest - /tmp/caps/ut/tests/test_core.py:11 test_failure L49-54 tests.test_core.RatioTest.test_ratio_wrong: AssertionError: 3.0 != 4
            E cascade unittest - - test_failure L59-59 FAILED (failures=2, errors=2, skipped=1, expected failures=1)
            test FAILED tests.test_core.ParseTest.test_parse_bad @ /tmp/caps/ut/calc/core.py:9 | json.decoder.JSONDecodeError: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)
            test FAILED tests.test_core.RatioTest.test_ratio_zero @ /tmp/caps/ut/calc/core.py:5 | ZeroDivisionError: division by zero
            test FAILED tests.test_core.ParseTest.test_dict_eq @ /tmp/caps/ut/tests/test_core.py:33 | AssertionError: {'a': 1, 'b': 2} != {'a': 1, 'b': 3}
            test FAILED tests.test_core.RatioTest.test_ratio_wrong @ /tmp/caps/ut/tests/test_core.py:11 | AssertionError: 3.0 != 4
        "#]],
    );
}

#[test]
fn unittest_import_error() {
    check(
        "unittest/import_error.log",
        expect![[r#"
            category: missing_dependency
            E root unittest - /tmp/caps/ut/tests/test_import.py:3 missing_dependency L8-17 unittest.loader._FailedTest.test_import: ModuleNotFoundError: No module named 'not_installed_pkg'
            E root unittest - /tmp/caps/ut/calc/core.py:5 test_failure L21-29 tests.test_core.RatioTest.test_ratio_zero: ZeroDivisionError: division by zero
            E root unittest - /tmp/caps/ut/tests/test_core.py:11 test_failure L32-37 tests.test_core.RatioTest.test_ratio_wrong: AssertionError: 3.0 != 4
            E cascade unittest - - test_failure L42-42 FAILED (failures=1, errors=2, skipped=1)
            test FAILED unittest.loader._FailedTest.test_import @ /tmp/caps/ut/tests/test_import.py:3 | ModuleNotFoundError: No module named 'not_installed_pkg'
            test passed tests.test_core.RatioTest.test_ratio_ok
            test FAILED tests.test_core.RatioTest.test_ratio_wrong @ /tmp/caps/ut/tests/test_core.py:11 | AssertionError: 3.0 != 4
            test FAILED tests.test_core.RatioTest.test_ratio_zero @ /tmp/caps/ut/calc/core.py:5 | ZeroDivisionError: division by zero
            test skipped tests.test_core.RatioTest.test_remote
        "#]],
    );
}

#[test]
fn unittest_subtests_docstrings_and_class_setup() {
    check(
        "unittest/subtests_and_setup.log",
        expect![[r#"
        category: test_failure
        E root unittest - /tmp/caps/ut2/tests/test_more.py:15 test_failure L10-15 tests.test_more.BrokenSetupTest.setUpClass: RuntimeError: database not reachable
        E root unittest - /tmp/caps/ut2/tests/test_more.py:9 test_failure L18-24 tests.test_more.EvenTest.test_even (i=1): AssertionError: 1 != 0
        E cascade unittest - - test_failure L38-38 FAILED (failures=2, errors=1)
        test FAILED tests.test_more.BrokenSetupTest.setUpClass @ /tmp/caps/ut2/tests/test_more.py:15 | RuntimeError: database not reachable
        test FAILED tests.test_more.EvenTest.test_even (i=1) @ /tmp/caps/ut2/tests/test_more.py:9 | AssertionError: 1 != 0
        test FAILED tests.test_more.EvenTest.test_even (i=3) @ /tmp/caps/ut2/tests/test_more.py:9 | AssertionError: 1 != 0
    "#]],
    );
}

#[test]
fn cmake_configure_errors() {
    check(
        "cmake/configure_errors.log",
        expect![[r#"
            category: missing_dependency
            W cascade cmake message CMakeLists.txt:4 config_error L7-8 CALC_FEATURE is not set; building without it
            E root cmake find_package CMakeLists.txt:6 missing_dependency L11-25 By not providing "FindNotThereAtAll.cmake" in CMAKE_MODULE_PATH this project has asked CMake to find a package configuration file provided by "NotThereAtAll", but CMake did not find one.
            E cascade cmake - - config_error L28-28 Configuring incomplete, errors occurred!
        "#]],
    );
}

#[test]
fn cmake_generate_errors() {
    check(
        "cmake/generate_errors.log",
        expect![[r#"
            category: config_error
            E root cmake add_executable CMakeLists.txt:4 config_error L8-14 Cannot find source file: missing_source.c
            E root cmake add_executable CMakeLists.txt:4 config_error L17-18 No SOURCES given to target: calc
            E cascade cmake - - config_error L21-21 CMake Generate step failed.  Build files cannot be regenerated correctly.
        "#]],
    );
}

#[test]
fn cmake_no_source_dir() {
    check(
        "cmake/no_source_dir.log",
        expect![[r#"
            category: config_error
            E root cmake - - config_error L1-1 The source directory "/tmp/caps/nonexistent_src" does not exist.
        "#]],
    );
}

#[test]
fn cmake_parse_error() {
    check(
        "cmake/parse_error.log",
        expect![[r#"
            category: syntax_error
            E root cmake - CMakeLists.txt:3 syntax_error L1-2 Parse error.  Function missing ending ")".  End of file reached.
            E cascade cmake - - config_error L5-5 Configuring incomplete, errors occurred!
        "#]],
    );
}

#[test]
fn cmake_find_module() {
    check(
        "cmake/find_module.log",
        expect![[r#"
            category: missing_dependency
            E root cmake find_package CMakeLists.txt:3 missing_dependency L7-13 Could NOT find GSL (missing: GSL_INCLUDE_DIR GSL_LIBRARY GSL_CBLAS_LIBRARY) (found version "")
            E cascade cmake - - config_error L16-16 Configuring incomplete, errors occurred!
        "#]],
    );
}

#[test]
fn cmake_build_with_gcc_and_make() {
    check(
        "cmake/build_gcc_make.log",
        expect![[r#"
            category: syntax_error
            E root gcc - /tmp/caps/cm5/src/ops.c:5:17 syntax_error L11-17 expected ‘;’ before ‘}’ token
            E cascade make - - unknown L18-18 [CMakeFiles/calcops.dir/build.make:76: CMakeFiles/calcops.dir/src/ops.c.o] Error 1
            E cascade make - - unknown L20-20 [CMakeFiles/Makefile2:87: CMakeFiles/calcops.dir/all] Error 2
            E root gcc - /tmp/caps/cm5/src/main.c:7:27 compile_error L22-26 ‘total’ undeclared (first use in this function)
            E cascade make - - unknown L27-27 [CMakeFiles/calc.dir/build.make:76: CMakeFiles/calc.dir/src/main.c.o] Error 1
            E cascade make - - unknown L29-29 [CMakeFiles/Makefile2:113: CMakeFiles/calc.dir/all] Error 2
            E root ld - report.c compile_error L33-33 undefined reference to `helper'
            E cascade ld - - compile_error L34-34 collect2: error: ld returned 1 exit status
            E cascade make - - unknown L35-35 [CMakeFiles/report.dir/build.make:97: report] Error 1
            E cascade make - - unknown L37-37 [CMakeFiles/Makefile2:139: CMakeFiles/report.dir/all] Error 2
            E cascade make - - unknown L39-39 [Makefile:91: all] Error 2
        "#]],
    );
}

#[test]
fn clang_errors() {
    check(
        "clang/errors.log",
        expect![[r#"
            category: syntax_error
            E root clang - shapes.h:7:22 compile_error L1-4 use of undeclared identifier 'lenght'
            W cascade clang -Wint-conversion main.c:9:11 lint L5-7 incompatible integer to pointer conversion initializing 'char *' with an expression of type 'int'
            E root clang - main.c:11:46 syntax_error L8-11 expected ';' after expression
            E root clang - main.c:12:23 compile_error L12-17 too many arguments to function call, expected 2, have 3
            E cascade clang - - compile_error L18-18 1 warning and 3 errors generated.
        "#]],
    );
}

#[test]
fn clang_errors_in_colour() {
    check(
        "clang/errors_color.log",
        expect![[r#"
            category: syntax_error
            E root clang - shapes.h:7:22 compile_error L1-4 use of undeclared identifier 'lenght'
            W cascade clang -Wint-conversion main.c:9:11 lint L5-7 incompatible integer to pointer conversion initializing 'char *' with an expression of type 'int'
            E root clang - main.c:11:46 syntax_error L8-11 expected ';' after expression
            E root clang - main.c:12:23 compile_error L12-17 too many arguments to function call, expected 2, have 3
            E cascade clang - - compile_error L18-18 1 warning and 3 errors generated.
        "#]],
    );
}

#[test]
fn clang_link_error() {
    check(
        "clang/link_error.log",
        expect![[r#"
            category: compile_error
            E root ld - link.c compile_error L2-2 undefined reference to `helper'
            E cascade ld - - compile_error L3-3 clang: error: linker command failed with exit code 1 (use -v to see invocation)
        "#]],
    );
}

#[test]
fn clang_cpp_template() {
    check(
        "clang/cpp_template.log",
        expect![[r#"
            category: compile_error
            E root clang - tmpl.cpp:7:33 compile_error L1-6 invalid operands to binary expression ('int' and 'std::basic_string<char> const')
            E cascade clang - - compile_error L7-7 1 error generated.
        "#]],
    );
}

#[test]
fn clang_missing_header() {
    check(
        "clang/missing_header.log",
        expect![[r#"
            category: missing_dependency
            E root clang - missing.c:1:10 missing_dependency L1-3 'nothere.h' file not found
            E cascade clang - - compile_error L4-4 1 error generated.
        "#]],
    );
}

#[test]
fn clang_under_make() {
    check(
        "clang/make.log",
        expect![[r#"
            category: syntax_error
            E root clang - shapes.h:7:22 compile_error L2-5 use of undeclared identifier 'lenght'
            W cascade clang -Wint-conversion main.c:9:11 lint L6-8 incompatible integer to pointer conversion initializing 'char *' with an expression of type 'int'
            E root clang - main.c:11:46 syntax_error L9-12 expected ';' after expression
            E root clang - main.c:12:23 compile_error L13-18 too many arguments to function call, expected 2, have 3
            E cascade clang - - compile_error L19-19 1 warning and 3 errors generated.
            E cascade make - - unknown L20-20 [<builtin>: main.o] Error 1
        "#]],
    );
}

#[test]
fn clang_macos_link_error_documented() {
    check(
        "clang/macos_link_error.log",
        expect![[r#"
            category: compile_error
            E root ld - - compile_error L2-4 Undefined symbols for architecture arm64: "_helper"
            E cascade ld - - compile_error L5-5 ld: symbol(s) not found for architecture arm64
            E cascade ld - - compile_error L6-6 clang: error: linker command failed with exit code 1 (use -v to see invocation)
            E cascade make - - unknown L7-7 [app] Error 1
        "#]],
    );
}

#[test]
fn ruff_concise() {
    check(
        "ruff/concise.log",
        expect![[r#"
            category: syntax_error
            E root ruff F401 src/a.py:1:8 lint L1-1 `os` imported but unused
            E root ruff F401 src/a.py:2:8 lint L2-2 `sys` imported but unused
            E root ruff F821 src/a.py:9:12 lint L3-3 Undefined name `reslt`
            E root ruff E711 src/a.py:13:13 lint L4-4 Comparison to `None` should be `cond is None`
            E root ruff E741 src/a.py:15:5 lint L5-5 Ambiguous variable name: `l`
            E root ruff invalid-syntax src/broken.py:1:7 syntax_error L6-6 Expected a parameter or the end of the parameter list
            E root ruff invalid-syntax src/broken.py:1:8 syntax_error L7-7 Expected `)`, found newline
            E cascade ruff - - lint L8-8 Found 7 errors.
        "#]],
    );
}

#[test]
fn ruff_full() {
    check(
        "ruff/full.log",
        expect![[r#"
            category: syntax_error
            E root ruff F401 src/a.py:1:8 lint L1-12 `os` imported but unused
            E root ruff F401 src/a.py:2:8 lint L14-25 `sys` imported but unused
            E root ruff F821 src/a.py:9:12 lint L27-33 Undefined name `reslt`
            E root ruff E711 src/a.py:13:13 lint L35-51 Comparison to `None` should be `cond is None`
            E root ruff E741 src/a.py:15:5 lint L53-61 Ambiguous variable name: `l`
            E root ruff invalid-syntax src/broken.py:1:7 syntax_error L63-69 Expected a parameter or the end of the parameter list
            E root ruff invalid-syntax src/broken.py:1:8 syntax_error L71-77 Expected `)`, found newline
            E cascade ruff - - lint L79-79 Found 7 errors.
        "#]],
    );
}

#[test]
fn pip_no_matching_version() {
    check(
        "pip/no_matching_version.log",
        expect![[r#"
            category: missing_dependency
            E root pip - - missing_dependency L4-4 Could not find a version that satisfies the requirement ruff==0.0.0.1
            E cascade pip - - missing_dependency L5-5 No matching distribution found for ruff==0.0.0.1
        "#]],
    );
}

#[test]
fn pip_no_index() {
    check(
        "pip/no_index.log",
        expect![[r#"
            category: missing_dependency
            E root pip - - missing_dependency L1-1 Could not find a version that satisfies the requirement requests>=2
            E cascade pip - - missing_dependency L2-2 No matching distribution found for requests>=2
        "#]],
    );
}

#[test]
fn pip_resolution_impossible() {
    check(
        "pip/resolution_impossible.log",
        expect![[r#"
            category: missing_dependency
            E root pip - - missing_dependency L8-12 Cannot install flask==3.0.0 and werkzeug==2.0.0 because these package versions have conflicting dependencies.
            E cascade pip - - missing_dependency L18-18 ResolutionImpossible: for help visit https://pip.pypa.io/en/latest/topics/dependency-resolution/#dealing-with-dependency-conflicts
        "#]],
    );
}

#[test]
fn uv_no_version() {
    check(
        "pip/uv_no_version.log",
        expect![[r#"
            category: missing_dependency
            E root uv - - missing_dependency L1-2 No solution found when resolving dependencies: Because there is no version of requests==99.0.0 and you require requests==99.0.0, we can conclude that your requirements are unsatisfiable.
        "#]],
    );
}

#[test]
fn uv_conflict() {
    check(
        "pip/uv_conflict.log",
        expect![[r#"
            category: missing_dependency
            E root uv - - missing_dependency L1-3 No solution found when resolving dependencies: Because flask==3.0.0 depends on werkzeug>=3.0.0 and you require flask==3.0.0, we can conclude that you require werkzeug>=3.0.0. And because you require werkzeug==2.0.0, we can conclude that your requirements are unsatisfiable.
        "#]],
    );
}

#[test]
fn uv_not_in_registry() {
    check(
        "pip/uv_not_in_registry.log",
        expect![[r#"
            category: missing_dependency
            E root uv - - missing_dependency L1-2 No solution found when resolving dependencies: Because qide-no-such-package-zz was not found in the package registry and you require qide-no-such-package-zz, we can conclude that your requirements are unsatisfiable.
        "#]],
    );
}

#[test]
fn uv_sync_conflict() {
    check(
        "pip/uv_sync_conflict.log",
        expect![[r#"
            category: missing_dependency
            E root uv - - missing_dependency L3-5 No solution found when resolving dependencies: Because flask==3.0.0 depends on werkzeug>=3.0.0 and your project depends on flask==3.0.0, we can conclude that your project depends on werkzeug>=3.0.0. And because your project depends on werkzeug==2.0.0, we can conclude that your project's requirements are unsatisfiable.
        "#]],
    );
}

#[test]
fn uv_conflict_terminal() {
    check(
        "pip/uv_conflict_terminal.log",
        expect![[r#"
            category: missing_dependency
            E root uv - - missing_dependency L1-3 No solution found when resolving dependencies: Because flask==3.0.0 depends on werkzeug>=3.0.0 and you require flask==3.0.0, we can conclude that you require werkzeug>=3.0.0. And because you require werkzeug==2.0.0, we can conclude that your requirements are unsatisfiable.
        "#]],
    );
}

#[test]
fn poetry_package_not_found() {
    check(
        "pip/poetry_package_not_found.log",
        expect![[r#"
            category: missing_dependency
            E root poetry - - missing_dependency L5-5 Package werkzeug (2.0.0) not found.
        "#]],
    );
}

#[test]
fn poetry_no_matching_version() {
    check(
        "pip/poetry_no_matching_version.log",
        expect![[r#"
            category: missing_dependency
            E root poetry - - missing_dependency L2-2 Could not find a matching version of package qide-no-such-package-zz
        "#]],
    );
}

/// Pester 4 and 5 in their documented forms (PowerShell is not on this
/// machine); a docker build's `[+] Building …` is not a test.
#[test]
fn pester_4_documented() {
    check(
        "pester/v4.log",
        expect![[r#"
        category: test_failure
        E root pester - C:\proj\tests\Get-Thing.Tests.ps1:12 test_failure L7-10 returns a thing: Expected 'a', but got 'b'.
        test passed returns nothing for nothing
        test FAILED returns a thing @ C:\proj\tests\Get-Thing.Tests.ps1:12 | Expected 'a', but got 'b'.
        test skipped is not done yet
        test passed reads the cache
    "#]],
    );
}

#[test]
fn pester_5_documented() {
    check(
        "pester/v5.log",
        expect![[r#"
        category: test_failure
        E root pester - /home/ci/proj/tests/Get-Thing.Tests.ps1:12 test_failure L5-8 Get-Thing.returns a thing: Expected 'a', but got 'b'.
        test FAILED Get-Thing.returns a thing @ /home/ci/proj/tests/Get-Thing.Tests.ps1:12 | Expected 'a', but got 'b'.
    "#]],
    );
}

/// Haskell's tasty, in the form of its documented output and real CI logs
/// (GHC is not on this machine).
#[test]
fn tasty_failure_documented() {
    check(
        "tasty/failed.log",
        expect![[r#"
        category: test_failure
        E root tasty - - test_failure L7-14 tables: --- tables.custom
        test FAILED tables | --- tables.custom
    "#]],
    );
}

/// PHP's run-tests, in the form of real CI logs (PHP is not on this
/// machine).
#[test]
fn phpt_failure() {
    check(
        "phpt/failed.log",
        expect![[r#"
        category: test_failure
        E root phpt - ext/pdo_pgsql/tests/bug72294.phpt test_failure L5-8 Bug #72294 Segmentation fault/invalid pointer in connection with pgsql_stmt_dtor failed
        test FAILED ext/pdo_pgsql/tests/bug72294.phpt @ ext/pdo_pgsql/tests/bug72294.phpt | Bug #72294 Segmentation fault/invalid pointer in connection with pgsql_stmt_dtor
    "#]],
    );
}

/// size-limit over a JavaScript bundle, in its documented form (it does
/// not run here), colours as on a terminal.
#[test]
fn size_limit_exceeded_documented() {
    check(
        "size_limit/exceeded.log",
        expect![[r#"
        category: lint
        E root size-limit - - lint L3-3 Package size limit has exceeded by 4.72 KB
        E cascade npm ELIFECYCLE - unknown L8-9 npm error ELIFECYCLE
    "#]],
    );
}

/// TAP from Perl's Test::More and tape, captured from the real tools, and
/// bats in its documented form (bats is not on this machine).
#[test]
fn tap_perl() {
    check(
        "tap/perl.log",
        expect![[r#"
        category: test_failure
        E root tap - t/math.t:6 test_failure L3-7 multiplies: expected '5', got '4'
        E root tap - t/math.t:7 test_failure L8-10 is true failed
        test passed adds
        test FAILED multiplies @ t/math.t:6 | expected '5', got '4'
        test FAILED is true @ t/math.t:7
        test skipped test 4
    "#]],
    );
}

#[test]
fn tap_tape() {
    check(
        "tap/tape.log",
        expect![[r#"
            category: test_failure
            E root tap - /home/ci/app/test.js:3 test_failure L5-10 no errors: expected false, got 1
            E root tap - /home/ci/app/test.js:4 test_failure L21-26 no messages in results: expected [], got [ 1 ]
            test passed should be strictly equal
            test FAILED no errors @ /home/ci/app/test.js:3 | expected false, got 1
            test FAILED no messages in results @ /home/ci/app/test.js:4 | expected [], got [ 1 ]
        "#]],
    );
}

#[test]
fn tap_bats_documented() {
    check(
        "tap/bats.log",
        expect![[r#"
        category: test_failure
        E root tap - test/math.bats:9 test_failure L3-5 subtraction using dc: `[ "$result" -eq 1 ]' failed
        test passed addition using bc
        test FAILED subtraction using dc @ test/math.bats:9 | `[ "$result" -eq 1 ]' failed
    "#]],
    );
}

/// GoogleTest 1.12, captured: a failed assertion, a skip, an exception.
#[test]
fn gtest_failures() {
    check(
        "gtest/failed.log",
        expect![[r#"
        category: test_failure
        E root gtest - math_test.cc:4 test_failure L8-12 MathTest.Multiplies: Expected equality of these values: 2 * 2 Which is: 4 5
        E root gtest - - test_failure L22-23 StringTest.Throws: C++ exception with description "boom" thrown in the test body.
        test passed MathTest.Adds
        test FAILED MathTest.Multiplies @ math_test.cc:4 | Expected equality of these values: 2 * 2 Which is: 4 5
        test skipped MathTest.Skips
        test FAILED StringTest.Throws | C++ exception with description "boom" thrown in the test body.
    "#]],
    );
}

/// `dotnet test`'s console logger in its documented form (no .NET here).
#[test]
fn dotnet_test_documented() {
    check(
        "dotnet/test_failed.log",
        expect![[r#"
        category: test_failure
        E root dotnet - /home/ci/app/Calculator.Tests/MathTests.cs:14 test_failure L12-20 Calculator.Tests.MathTests.Multiplies: Assert.Equal() Failure Expected: 5 Actual:   4
        test passed Calculator.Tests.MathTests.Adds
        test FAILED Calculator.Tests.MathTests.Multiplies @ /home/ci/app/Calculator.Tests/MathTests.cs:14 | Assert.Equal() Failure Expected: 5 Actual:   4
        test skipped Calculator.Tests.MathTests.Later
    "#]],
    );
}

/// `swift test`'s XCTest output in its documented form (no Swift here).
#[test]
fn xctest_documented() {
    check(
        "xctest/swift_test.log",
        expect![[r#"
        category: test_failure
        E root xctest - /home/ci/app/Tests/AppTests/MathTests.swift:12 test_failure L9-9 MathTests.testMultiplies : XCTAssertEqual failed: ("4") is not equal to ("5")
        E root xctest - - test_failure L12-12 MathTests.testCrashes failed
        test passed MathTests.testAdds
        test FAILED MathTests.testMultiplies @ /home/ci/app/Tests/AppTests/MathTests.swift:12 | MathTests.testMultiplies : XCTAssertEqual failed: ("4") is not equal to ("5")
        test FAILED MathTests.testCrashes
        test skipped MathTests.testLater
    "#]],
    );
}

/// minitest in its documented form (no Ruby here): a failure and an error.
#[test]
fn minitest_documented() {
    check(
        "minitest/failed.log",
        expect![[r#"
        category: test_failure
        E root minitest - test/math_test.rb:8 test_failure L9-12 MathTest#test_multiplies: Expected: 5 Actual: 4
        E root minitest - test/math_test.rb:12 crash L14-17 MathTest#test_raises: RuntimeError: boom
        test FAILED MathTest#test_multiplies @ test/math_test.rb:8 | Expected: 5 Actual: 4
        test FAILED MathTest#test_raises @ test/math_test.rb:12 | RuntimeError: boom
    "#]],
    );
}

/// Catch2 v3 in its documented form (not on this machine).
#[test]
fn catch2_documented() {
    check(
        "catch2/failed.log",
        expect![[r#"
        category: test_failure
        E root catch2 - /home/ci/app/tests/math_test.cpp:9 test_failure L12-15 REQUIRE( 2 * 2 == 5 ) with expansion: 4 == 5
    "#]],
    );
}

/// Erlang's Common Test, in the form real CI logs of Erlang projects show
/// (Common Test is not on this machine).
#[test]
fn common_test_failures() {
    check(
        "common_test/failed.log",
        expect![[r#"
        category: test_failure
        E root common_test - - test_failure L5-6 app_SUITE:send_recv failed on line 593: timetrap_timeout
        E cascade common_test - - test_failure L9-9 Testing app: *** FAILED test case 4 of 12 ***
        E root common_test - - test_failure L11-15 app_SUITE:init_per_group failed: {test_case_failed,{failed_to_create_sql_tables,pgsql,
        E cascade common_test - - test_failure L18-18 Testing app: *** FAILED {app_SUITE,init_per_group} ***
        test FAILED app_SUITE:send_recv | app_SUITE:send_recv failed on line 593: timetrap_timeout
        test FAILED app_SUITE:init_per_group | app_SUITE:init_per_group failed: {test_case_failed,{failed_to_create_sql_tables,pgsql,
    "#]],
    );
}

/// Composer's resolver failure, in its documented form (no PHP here),
/// colours as it prints them on a terminal.
#[test]
fn composer_conflict_documented() {
    check(
        "composer/conflict.log",
        expect![[r#"
        category: missing_dependency
        E root composer - - missing_dependency L4-9 Your requirements could not be resolved to an installable set of packages: Root composer.json requires monolog/monolog ^9.0, found monolog/monolog[1.0.0, ..., 3.7.0] but it does not match the constraint.
    "#]],
    );
}

#[test]
fn gradle_javac_documented() {
    check(
        "gradle/javac.log",
        expect![[r#"
            category: compile_error
            E cascade gradle - - compile_error L1-1 > Task :app:compileJava FAILED
            E root javac - /home/ci/project/app/src/main/java/com/example/App.java:10 compile_error L2-6 cannot find symbol
            E root javac - /home/ci/project/app/src/main/java/com/example/App.java:14 compile_error L7-9 incompatible types: String cannot be converted to int
            E cascade gradle - - compile_error L12-16 Execution failed for task ':app:compileJava'.
            E cascade gradle - - unknown L22-22 BUILD FAILED in 2s
        "#]],
    );
}

#[test]
fn gradle_kotlin_documented() {
    check(
        "gradle/kotlin.log",
        expect![[r#"
            category: compile_error
            E cascade gradle - - compile_error L4-4 > Task :app:compileKotlin FAILED
            W cascade kotlinc - /home/ci/project/app/src/main/kotlin/com/example/App.kt:5:9 lint L5-5 Variable 'unused' is never used
            E root kotlinc - /home/ci/project/app/src/main/kotlin/com/example/App.kt:10:5 compile_error L6-6 Unresolved reference: greting
            E root kotlinc - /home/ci/project/app/src/main/kotlin/com/example/App.kt:14:21 compile_error L7-7 Type mismatch: inferred type is String but Int was expected
            E root kotlinc - /home/ci/project/app/src/main/kotlin/com/example/Legacy.kt:3:12 compile_error L8-8 Unresolved reference: nope
            E cascade gradle - - compile_error L10-15 Execution failed for task ':app:compileKotlin'.
            E cascade gradle - - unknown L23-23 BUILD FAILED in 7s
        "#]],
    );
}

#[test]
fn gradle_test_failures_documented() {
    check(
        "gradle/test_failures.log",
        expect![[r#"
            category: test_failure
            E root gradle - AppTest.java:12 test_failure L5-6 AppTest > appHasAGreeting(): org.opentest4j.AssertionFailedError
            E root gradle - Calc.java:8 test_failure L10-13 com.example.CalcTest > dividesByZero(): java.lang.ArithmeticException: / by zero
            E cascade gradle - - test_failure L15-15 5 tests completed, 2 failed, 1 skipped
            E cascade gradle - - test_failure L17-17 > Task :app:test FAILED
            E cascade gradle - - test_failure L19-23 Execution failed for task ':app:test'.
            E cascade gradle - - unknown L28-28 BUILD FAILED in 4s
            test FAILED AppTest > appHasAGreeting() @ AppTest.java:12 | org.opentest4j.AssertionFailedError
            test skipped AppTest > sumsLargeNumbers()
            test FAILED com.example.CalcTest > dividesByZero() @ Calc.java:8 | java.lang.ArithmeticException: / by zero
        "#]],
    );
}

#[test]
fn gradle_dependency_resolution_documented() {
    check(
        "gradle/dependency_resolution.log",
        expect![[r#"
            category: missing_dependency
            E cascade gradle - - compile_error L1-1 > Task :app:compileJava FAILED
            E root gradle - - missing_dependency L3-12 Could not find com.example:nope-lib:1.2.3.
            E cascade gradle - - unknown L19-19 BUILD FAILED in 1s
        "#]],
    );
}

#[test]
fn unittest_failures_keep_their_ids_in_another_checkout() {
    let log = read_log("unittest/verbose.log");
    let elsewhere = log
        .replace("/tmp/caps/ut/", "/home/ci/build/4711/")
        .replace("line 33", "line 48")
        .replace("in 0.003s", "in 1.250s");
    let before = root_fingerprints(&log);
    assert_eq!(before.len(), 4);
    assert_eq!(before, root_fingerprints(&elsewhere));
}

#[test]
fn cmake_error_keeps_its_id_when_the_call_moves() {
    let log = read_log("cmake/generate_errors.log");
    let moved = log.replace("CMakeLists.txt:4 ", "CMakeLists.txt:17 ");
    assert_ne!(log, moved);
    assert_eq!(root_fingerprints(&log), root_fingerprints(&moved));
}

#[test]
fn pip_failure_keeps_its_id_when_new_versions_are_published() {
    let log = read_log("pip/no_matching_version.log");
    let later = log.replace("(from versions: ", "(from versions: 0.0.1, 0.0.2, ");
    assert_eq!(root_fingerprints(&log), root_fingerprints(&later));
}

#[test]
fn gradle_test_failure_keeps_its_id_when_the_test_moves() {
    let log = read_log("gradle/test_failures.log");
    let moved = log
        .replace("AppTest.java:12", "AppTest.java:30")
        .replace("BUILD FAILED in 4s", "BUILD FAILED in 1m 12s");
    assert_eq!(root_fingerprints(&log), root_fingerprints(&moved));
}

#[test]
fn ruff_concise_and_full_forms_give_the_same_ids() {
    let concise = root_fingerprints(&read_log("ruff/concise.log"));
    let full = root_fingerprints(&read_log("ruff/full.log"));
    assert_eq!(concise.len(), 7);
    assert_eq!(concise, full);
}

#[test]
fn clang_and_gcc_ids_differ_for_the_same_place() {
    let gcc = "main.c:3:5: error: expected ';' before 'return'\n";
    let clang = format!("{gcc}1 error generated.\n");
    assert_ne!(root_fingerprints(gcc), root_fingerprints(&clang));
}

#[test]
fn different_failures_of_the_new_tools_get_different_ids() {
    let ids: Vec<String> = [
        "unittest/verbose.log",
        "cmake/configure_errors.log",
        "cmake/generate_errors.log",
        "cmake/parse_error.log",
        "clang/errors.log",
        "clang/missing_header.log",
        "ruff/full.log",
        "pip/no_index.log",
        "pip/resolution_impossible.log",
        "gradle/kotlin.log",
        "gradle/test_failures.log",
        "gradle/dependency_resolution.log",
    ]
    .iter()
    .flat_map(|log| root_fingerprints(&read_log(log)))
    .collect();
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    // ruff's two `F401 imported but unused` in one file name different
    // modules, which the normalised message keeps apart; nothing repeats.
    assert_eq!(ids.len(), unique.len(), "{ids:#?}");
}

#[test]
fn unittest_before_python_3_11_names_the_class_only() {
    let log = "test_add (tests.test_calc.CalcTest) ... FAIL\n\
               \n\
               ======================================================================\n\
               FAIL: test_add (tests.test_calc.CalcTest)\n\
               ----------------------------------------------------------------------\n\
               Traceback (most recent call last):\n  \
               File \"tests/test_calc.py\", line 7, in test_add\n    \
               self.assertEqual(add(2, 2), 5)\n\
               AssertionError: 4 != 5\n\
               \n\
               ----------------------------------------------------------------------\n\
               Ran 1 test in 0.001s\n\
               \n\
               FAILED (failures=1)\n";
    expect![[r#"
        category: test_failure
        E root unittest - tests/test_calc.py:7 test_failure L4-9 tests.test_calc.CalcTest.test_add: AssertionError: 4 != 5
        E cascade unittest - - test_failure L14-14 FAILED (failures=1)
        test FAILED tests.test_calc.CalcTest.test_add @ tests/test_calc.py:7 | AssertionError: 4 != 5
    "#]].assert_eq(&render(&diagnose(log)));
}

#[test]
fn a_passing_unittest_run_is_no_failure() {
    let log = "test_add (tests.test_calc.CalcTest.test_add) ... ok\n\
               test_mul (tests.test_calc.CalcTest.test_mul)\n\
               Multiplies two numbers. ... ok\n\
               test_sub (tests.test_calc.CalcTest.test_sub) ... skipped 'later'\n\
               \n\
               ----------------------------------------------------------------------\n\
               Ran 3 tests in 0.001s\n\
               \n\
               OK (skipped=1)\n";
    expect![[r#"
        category: none
        test passed tests.test_calc.CalcTest.test_add
        test passed tests.test_calc.CalcTest.test_mul
        test skipped tests.test_calc.CalcTest.test_sub
    "#]]
    .assert_eq(&render(&diagnose(log)));
}

#[test]
fn a_cmake_warning_alone_is_no_failure() {
    let log = "CMake Warning (dev) at CMakeLists.txt:3 (project):\n  \
               Policy CMP0048 is not set: project() command manages VERSION variables.\n\
               This warning is for project developers.  Use -Wno-dev to suppress it.\n\
               \n\
               -- Configuring done\n";
    expect![[r#"
        category: none
        W cascade cmake project CMakeLists.txt:3 config_error L1-3 Policy CMP0048 is not set: project() command manages VERSION variables.
    "#]].assert_eq(&render(&diagnose(log)));
}

#[test]
fn karma_verdicts_are_not_gradle_tests() {
    let log = "Chrome 80 (Linux) upgrade hooks `$onInit()` > `$postLink()` FAILED\n";
    let diagnosis = diagnose(log);
    assert!(diagnosis.diagnostics.iter().all(|d| d.tool != "gradle"));
}

/// MSBuild's documented console output (the .NET SDK does not run here):
/// restore, C#, MSVC and linker errors, each once though the summary
/// repeats them.
#[test]
fn msbuild_dotnet_build_documented() {
    check(
        "msbuild/dotnet_build.log",
        expect![[r#"
        category: missing_dependency
        E root nuget NU1101 /src/App/App.csproj missing_dependency L3-5 Unable to find package Acme.Missing. No packages exist with this id in source(s): nuget.org
        E root csc CS1002 /src/App/Program.cs:12:31 syntax_error L6-6 ; expected
        W cascade csc CS0168 /src/App/Program.cs:20:13 lint L7-7 The variable 'e' is declared but never used
        E root csc CS0246 /src/App/Services/Store.cs:5:7 missing_dependency L8-8 The type or namespace name 'Newtonsoft' could not be found (are you missing a using directive or an assembly reference?)
        E root msvc C2065 C:\src\native\main.cpp:7 compile_error L9-9 'undeclared': undeclared identifier
        E root msvc LNK1104 - compile_error L10-10 cannot open file 'acme.lib'
    "#]],
    );
}
