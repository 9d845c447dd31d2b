#!/usr/bin/env python3
"""Seeded failures in real projects: does QIDE report the right file and line?

Driven by bench/seeded.sh, which builds the `seeded` example of qide-diagnose
(one log in, the diagnoser's errors and failed tests out as JSON) and passes
its path here. For each project (copied into a scratch folder, never edited
in place) this:

1. checks the untouched project builds and its tests pass;
2. picks mutation sites per kind with a seeded RNG, applies one mutation at a
   time to a copy of one line, runs the project's real build or test command
   and keeps the site only when that command fails (a mutation that still
   builds says nothing about extraction);
3. feeds the captured log (stdout and stderr, interleaved as a CI runner
   would see them) to the diagnoser exactly as the server does, and scores a
   hit when a root-cause error, or for a broken assertion a failed test,
   names the seeded file and a line within +-2 of the seeded line.

It prints a table per project and per kind and every miss with what was
reported instead; `--json FILE` also writes every case for later reading.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

# A mutation turns one line into another, or returns None where it does not apply.
Mutation = Callable[[str], "str | None"]

TOLERANCE = 2


@dataclass
class Project:
    name: str
    lang: str
    root: Path
    command: list[str]
    # Globs (relative to root) of the files mutations may touch, and of the
    # test files, where assertions are flipped.
    sources: list[str]
    tests: list[str]
    env: dict[str, str] = field(default_factory=dict)
    timeout: int = 300


@dataclass
class Case:
    project: str
    kind: str
    file: str
    line: int
    before: str
    after: str
    hit: bool = False
    # Whether the first root-cause error in log order is the one that names
    # the place (what an agent reading the packet top-down meets first).
    first: bool = False
    how: str = ""
    in_log: bool = False
    reported: list[str] = field(default_factory=list)
    seconds: float = 0.0


# ---------------------------------------------------------------- mutations


def sub_once(pattern: str, repl: str) -> Mutation:
    """A mutation replacing the first match of `pattern` in a line."""
    rx = re.compile(pattern)

    def apply(line: str) -> str | None:
        if not rx.search(line):
            return None
        return rx.sub(repl, line, count=1)

    return apply


def not_comment(m: Mutation, markers: tuple[str, ...]) -> Mutation:
    def apply(line: str) -> str | None:
        if line.lstrip().startswith(markers):
            return None
        return m(line)

    return apply


RUST = {
    # `let x = 1` without its `;` is always a parse error at that line.
    "syntax": sub_once(r"^(\s*let\s.*);\s*$", r"\1"),
    "keyword": sub_once(r"^(\s*)let\s", r"\1lett "),
    "type": sub_once(r"^(\s*let\s+(?:mut\s+)?[a-z_][a-z0-9_]*)\s*=\s*(.+;)\s*$", r"\1: () = \2"),
    "name": sub_once(r"^(\s*let\s+(?:mut\s+)?[a-z_][a-z0-9_]*\s*=\s*)[^;]+;\s*$", r"\1qide_unknown_name;"),
    "import": sub_once(r"^(\s*(?:pub\s+)?(?:use\s+[\w:]+::\w+|mod\s+\w+));\s*$", r"\1_qide;"),
    "assert": sub_once(r"\bassert_(eq|ne)!\(", lambda m: "assert_" + ("ne" if m[1] == "eq" else "eq") + "!("),
}

C = {
    "syntax": sub_once(r"^(\s+[^#/*\s].*[^\\\s;]);\s*$", r"\1"),
    "keyword": sub_once(r"^(\s+)return(\s+[^;]+;)\s*$", r"\1retrun\2"),
    "type": sub_once(r"^(\s+)return\s+[^;]+;\s*$", r'\1return "qide" * 2;'),
    "name": sub_once(r"^(\s+)return\s+([^;]+);\s*$", r"\1return (\2) + qide_undeclared;"),
    "import": sub_once(r'^#\s*include\s+"([\w/]+)\.h"', r'#include "\1_qide.h"'),
}

TS = {
    # Semicolons are optional in TypeScript; an unclosed call is not.
    "syntax": sub_once(r"^(\s*[^/*\s].*\(.*)\);\s*$", r"\1;"),
    "keyword": sub_once(r"^(\s*)return(\s+[^;]+;)\s*$", r"\1retrun\2"),
    "type": sub_once(r"^(\s*(?:const|let)\s+[A-Za-z_$][\w$]*)\s*=\s*(.+;)\s*$", r"\1: symbol = \2"),
    "name": sub_once(r"^(\s*)return\s+[^;]+;\s*$", r"\1return qideUnknownName;"),
    "import": sub_once(r'(\bfrom\s+")(\.{1,2}/[^"]+)"', r'\1\2_qide"'),
}

PYTHON = {
    "syntax": sub_once(r"^(\s*(?:def|if|elif|for|while|with|class)\b.*):\s*$", r"\1"),
    "keyword": sub_once(r"^(\s*)return(\s+\S.*)$", r"\1retrun\2"),
    "type": sub_once(r"^(\s*)return\s+\S.*$", r"\1return None + 1"),
    "name": sub_once(r"^(\s*)return\s+\S.*$", r"\1return qide_unknown_name"),
    "import": sub_once(r"^(\s*(?:from\s+[\w.]+\s+import\s+\(?\s*|import\s+))(\w+)", r"\1\2_qide"),
    "assert": sub_once(r"^(\s*assert\s.*?)\s(==|!=)\s", lambda m: m[1] + (" != " if m[2] == "==" else " == ")),
}

MUTATIONS = {"rust": RUST, "c": C, "ts": TS, "python": PYTHON}
COMMENTS = {"rust": ("//", "/*", "*"), "c": ("//", "/*", "*"), "ts": ("//", "/*", "*"), "python": ("#",)}
# Kinds that fail only at run time, so only where tests run the code.
RUNTIME_ONLY_IN_SOURCES = {("python", "type"), ("python", "name")}


def files(root: Path, globs: list[str]) -> list[Path]:
    found: set[Path] = set()
    for g in globs:
        found.update(p for p in root.glob(g) if p.is_file())
    return sorted(found)


def candidates(project: Project, kind: str, rng: random.Random) -> Iterator[tuple[Path, int, str, str]]:
    mutate = not_comment(MUTATIONS[project.lang][kind], COMMENTS[project.lang])
    pool = files(project.root, project.tests if kind == "assert" else project.sources)
    if (project.lang, kind) in RUNTIME_ONLY_IN_SOURCES:
        test_files = set(files(project.root, project.tests))
        pool = [p for p in pool if p not in test_files]
    sites = []
    for path in pool:
        in_docstring = False
        for i, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if project.lang == "python" and line.count('"""') % 2 == 1:
                in_docstring = not in_docstring
                continue
            if in_docstring:
                continue
            after = mutate(line)
            if after is not None and after != line:
                sites.append((path, i, line, after))
    rng.shuffle(sites)
    yield from sites


# ---------------------------------------------------------------- running


def run(project: Project, log: Path) -> tuple[int, float]:
    env = {**os.environ, **project.env}
    start = time.monotonic()
    with log.open("wb") as out:
        try:
            rc = subprocess.run(
                project.command, cwd=project.root, env=env, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, timeout=project.timeout,
            ).returncode
        except subprocess.TimeoutExpired:
            rc = -1
    return rc, time.monotonic() - start


def diagnose(example: str, root: Path, log: Path) -> dict:
    out = subprocess.run([example, str(root), str(log)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def normalise(path: str, root: Path) -> str:
    if path.startswith(str(root) + "/"):
        path = path[len(str(root)) + 1 :]
    while path.startswith("./"):
        path = path[2:]
    return path


def same_file(reported: str, rel: str, root: Path) -> bool:
    reported = normalise(reported, root)
    return reported == rel or reported.endswith("/" + rel)


def score(case: Case, found: dict, root: Path, log_text: str) -> None:
    def near(line: int | None) -> bool:
        return line is not None and abs(line - case.line) <= TOLERANCE

    seen_root = False
    for e in found["errors"]:
        where = f"{e['file']}:{e['line']}" if e["file"] else "(no file)"
        tag = "root" if e["root_cause"] else "cascade"
        case.reported.append(f"{tag} {e['tool']} {where} {e['message'][:90]}")
        if e["root_cause"] and e["file"] and same_file(e["file"], case.file, root) and near(e["line"]):
            case.hit, case.how = True, f"{e['tool']} error"
            case.first = case.first or not seen_root
        seen_root = seen_root or e["root_cause"]
    for t in found["failed_tests"]:
        where = f"{t['file']}:{t['line']}" if t["file"] else "(no file)"
        case.reported.append(f"failed test {t['name']} at {where}")
        if (
            not case.hit
            and case.kind == "assert"
            and t["file"]
            and same_file(t["file"], case.file, root)
            and near(t["line"])
        ):
            case.hit, case.how = True, "failed test"
    # Whether the tool printed the seeded place at all, so a miss can be put
    # down to the tool (nothing to find) or to QIDE (found nothing).
    base = re.escape(Path(case.file).name)
    lines = "|".join(str(n) for n in range(case.line - TOLERANCE, case.line + TOLERANCE + 1))
    case.in_log = re.search(rf'{base}(?::|", line |\()\s*(?:{lines})\b', log_text) is not None


def seed_project(project: Project, example: str, per_kind: int, seed: int, logs: Path) -> list[Case]:
    logs.mkdir(parents=True, exist_ok=True)
    rc, secs = run(project, logs / "baseline.log")
    if rc != 0:
        sys.exit(f"{project.name}: the untouched project fails ({' '.join(project.command)}, "
                 f"exit {rc}); see {logs / 'baseline.log'}")
    print(f"{project.name}: baseline passes in {secs:.1f}s", file=sys.stderr, flush=True)
    cases: list[Case] = []
    for kind in MUTATIONS[project.lang]:
        rng = random.Random(f"{seed}/{project.name}/{kind}")
        taken, tried = 0, 0
        used: set[tuple[Path, int]] = set()
        for path, line_no, before, after in candidates(project, kind, rng):
            if taken >= per_kind or tried >= per_kind * 4:
                break
            if (path, line_no) in used:
                continue
            tried += 1
            original = path.read_text()
            lines = original.split("\n")
            lines[line_no - 1] = after
            path.write_text("\n".join(lines))
            log = logs / f"{kind}-{taken}.log"
            try:
                rc, secs = run(project, log)
            finally:
                path.write_text(original)
            if rc == 0:
                continue  # the mutation did not break anything: not a seeded failure
            used.add((path, line_no))
            rel = str(path.relative_to(project.root))
            case = Case(project.name, kind, rel, line_no, before.strip(), after.strip(), seconds=secs)
            score(case, diagnose(example, project.root, log), project.root, log.read_text(errors="replace"))
            cases.append(case)
            taken += 1
            mark = "hit " if case.hit else "MISS"
            print(f"  {mark} {kind:8} {rel}:{line_no} ({secs:.1f}s)", file=sys.stderr, flush=True)
    return cases


# ---------------------------------------------------------------- projects


def registry_crate(name: str) -> Path | None:
    home = Path(os.environ.get("CARGO_HOME", Path.home() / ".cargo"))
    hits = sorted(home.glob(f"registry/src/*/{name}"))
    return hits[0] if hits else None


def fetch_crates(scratch: Path, crates: list[str]) -> None:
    """Puts the crates (`name-version`) missing from ~/.cargo/registry/src
    there with `cargo fetch` of a scratch package depending on them."""
    missing = [c for c in crates if registry_crate(c) is None]
    if not missing:
        return
    pkg = scratch / "fetch"
    (pkg / "src").mkdir(parents=True)
    (pkg / "src/lib.rs").write_text("")
    deps = "\n".join(f'{c.rsplit("-", 1)[0]} = "={c.rsplit("-", 1)[1]}"' for c in missing)
    (pkg / "Cargo.toml").write_text(
        f'[package]\nname = "fetch"\nversion = "0.0.0"\nedition = "2021"\n\n[dependencies]\n{deps}\n\n[workspace]\n'
    )
    got = subprocess.run(["cargo", "fetch"], cwd=pkg, capture_output=True, text=True)
    if got.returncode != 0:
        print(f"cargo fetch of {', '.join(missing)} failed: {got.stderr.strip()[-300:]}", file=sys.stderr)


def strip_dev_dependencies(toml: Path) -> None:
    """Drops dev-dependency and bench sections: their crates are not all in
    the offline registry, and the library and its own tests do not need them."""
    kept, skipping = [], False
    for line in toml.read_text().splitlines():
        if line.startswith("["):
            skipping = "dev-dependencies" in line or line.strip() == "[[bench]]"
        if not skipping:
            kept.append(line)
    toml.write_text("\n".join(kept) + "\n")


def prepare_crate(scratch: Path, crate: str, strip: bool) -> Project | None:
    src = registry_crate(crate)
    if src is None:
        print(f"skipping {crate}: not in ~/.cargo/registry/src", file=sys.stderr)
        return None
    root = scratch / crate
    shutil.copytree(src, root)
    if strip:
        strip_dev_dependencies(root / "Cargo.toml")
        shutil.rmtree(root / "benches", ignore_errors=True)
        (root / "Cargo.lock").unlink(missing_ok=True)
    toml = root / "Cargo.toml"
    if "[workspace]" not in toml.read_text():
        toml.write_text(toml.read_text() + "\n[workspace]\n")
    return Project(
        crate.rsplit("-", 1)[0], "rust", root, ["cargo", "test", "--offline"],
        sources=["src/**/*.rs", "*.rs", "tests/**/*.rs"], tests=["src/**/*.rs", "*.rs", "tests/**/*.rs"],
        env={"CARGO_TARGET_DIR": str(scratch / f"target-{crate}"), "CARGO_TERM_COLOR": "never"},
    )


def prepare_zlib(scratch: Path) -> Project | None:
    src = registry_crate(ZLIB_CRATE)
    if src is None or not (src / "src/zlib").is_dir():
        print("skipping zlib: no libz-sys with its zlib sources in the cargo registry", file=sys.stderr)
        return None
    root = scratch / "zlib"
    shutil.copytree(src / "src/zlib", root, ignore=shutil.ignore_patterns("contrib"))
    # libz-sys ships zlib's sources without zlib's build files; this is the
    # plain rule they would run: every .c compiled, then archived.
    (root / "Makefile").write_text(
        "CC ?= gcc\nCFLAGS = -O0 -Wall -D_LARGEFILE64_SOURCE=1 -DHAVE_HIDDEN\n"
        "OBJS = $(patsubst %.c,%.o,$(wildcard *.c))\n"
        "libz.a: $(OBJS)\n\tar rcs $@ $^\n"
        "%.o: %.c $(wildcard *.h)\n\t$(CC) $(CFLAGS) -c $< -o $@\n"
    )
    return Project("zlib", "c", root, ["make"], sources=["*.c"], tests=[], env={"CC": "gcc"})


def prepare_python(scratch: Path, name: str, version: str, tests: list[str], command: list[str]) -> Project | None:
    dl = scratch / "sdists"
    dl.mkdir(exist_ok=True)
    got = subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--no-binary", ":all:", "--no-deps", "-d", str(dl),
         f"{name}=={version}"], capture_output=True, text=True,
    )
    archives = sorted(dl.glob(f"{name}-{version}.tar.gz"))
    if got.returncode != 0 or not archives:
        print(f"skipping {name}: pip download failed: {got.stderr.strip()[-300:]}", file=sys.stderr)
        return None
    shutil.unpack_archive(archives[0], scratch)
    root = scratch / f"{name}-{version}"
    return Project(name, "python", root, [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *command],
                   sources=[f"{name}/**/*.py", f"{name}.py", "test_*.py", f"{name}/tests/*.py"], tests=tests)


def prepare_zod(scratch: Path) -> Project | None:
    npm = shutil.which("npm")
    if npm is None:
        print("skipping zod: no npm", file=sys.stderr)
        return None
    nm = scratch / "npm"
    nm.mkdir()
    got = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--prefix", str(nm),
                          "typescript@5.9.3", "zod@3.25.76"], capture_output=True, text=True)
    if got.returncode != 0:
        print(f"skipping zod: npm install failed: {got.stderr.strip()[-300:]}", file=sys.stderr)
        return None
    root = scratch / "zod"
    root.mkdir()
    shutil.copytree(nm / "node_modules/zod/src/v3", root / "src",
                    ignore=shutil.ignore_patterns("tests", "benchmarks"))
    (root / "tsconfig.json").write_text(json.dumps({
        "compilerOptions": {"strict": True, "target": "es2020", "module": "commonjs", "noEmit": True,
                            "skipLibCheck": True, "lib": ["es2020", "dom"]},
        "include": ["src"],
    }))
    return Project("zod", "ts", root, [str(nm / "node_modules/.bin/tsc"), "-p", "."],
                   sources=["src/**/*.ts"], tests=[])


# zlib's C sources, as the libz-sys crate ships them.
ZLIB_CRATE = "libz-sys-1.1.22"
CRATES = ["strsim-0.11.1", "either-1.19.0", "fnv-1.0.7", "semver-1.0.28", ZLIB_CRATE]


def projects(scratch: Path, only: set[str] | None) -> list[Project]:
    fetch_crates(scratch, CRATES)
    makers = {
        "strsim": lambda: prepare_crate(scratch, "strsim-0.11.1", strip=False),
        "either": lambda: prepare_crate(scratch, "either-1.19.0", strip=False),
        "fnv": lambda: prepare_crate(scratch, "fnv-1.0.7", strip=False),
        "semver": lambda: prepare_crate(scratch, "semver-1.0.28", strip=True),
        "toolz": lambda: prepare_python(scratch, "toolz", "1.2.0", ["toolz/tests/test_*.py"], ["toolz"]),
        "six": lambda: prepare_python(scratch, "six", "1.17.0", ["test_six.py"], ["test_six.py"]),
        "zlib": lambda: prepare_zlib(scratch),
        "zod": lambda: prepare_zod(scratch),
    }
    out = []
    for name, make in makers.items():
        if only and name not in only:
            continue
        p = make()
        if p is not None:
            out.append(p)
    return out


# ---------------------------------------------------------------- report


def table(cases: list[Case], key: Callable[[Case], str], title: str) -> None:
    if not cases:
        return
    groups: dict[str, list[Case]] = {}
    for c in cases:
        groups.setdefault(key(c), []).append(c)
    print(f"\n| {title} | seeded | hits | % | first root cause right |\n|---|---|---|---|---|")
    for name, cs in [*groups.items(), ("**all**", cases)]:
        hits, first = sum(c.hit for c in cs), sum(c.first for c in cs)
        print(f"| {name} | {len(cs)} | {hits} | {100 * hits / len(cs):.1f} | {first} ({100 * first / len(cs):.1f}%) |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("example", help="the built `seeded` example of qide-diagnose")
    ap.add_argument("--scratch", required=True, help="an empty folder for the project copies and logs")
    ap.add_argument("--per-kind", type=int, default=5, help="seeded failures per project and kind")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only", help="comma-separated project names")
    ap.add_argument("--json", help="write every case here")
    args = ap.parse_args()
    scratch = Path(args.scratch).resolve()
    only = set(args.only.split(",")) if args.only else None
    started = time.monotonic()
    cases: list[Case] = []
    for project in projects(scratch, only):
        cases += seed_project(project, args.example, args.per_kind, args.seed, scratch / "logs" / project.name)
    table(cases, lambda c: c.project, "project")
    table(cases, lambda c: c.kind, "kind")
    misses = [c for c in cases if not c.hit]
    print(f"\nmisses ({len(misses)}):")
    for c in misses:
        printed = "the tool printed the place" if c.in_log else "the tool did not print the place"
        print(f"- {c.project} {c.kind} {c.file}:{c.line} `{c.after}` ({printed}); reported:")
        for r in c.reported[:6] or ["nothing"]:
            print(f"    {r}")
    # A hit among many reported places would be cheap; say how many there were.
    roots = sorted(sum(r.startswith("root ") for r in c.reported) for c in cases)
    if roots:
        print(f"\nroot-cause errors reported per log: median {roots[len(roots) // 2]}, max {roots[-1]}; "
              f"logs with exactly one: {sum(n == 1 for n in roots)} of {len(roots)}")
    print(f"\n{len(cases)} seeded failures in {time.monotonic() - started:.0f}s")
    if args.json:
        Path(args.json).write_text(json.dumps([c.__dict__ for c in cases], indent=1))


if __name__ == "__main__":
    main()
