"""Mutation testing of the chapter modules, on a seeded sample of mutants.

    python -m snippets.sitebuild.mutation [--sample 200] [--seed 0] [--workers 2]

The numeric core, ``snippets/bp``, is measured with mutmut (configured in pyproject.toml). mutmut
cannot judge a chapter module: it switches a mutant on inside a function after the tests are
collected, while a chapter computes its results when its module is imported, in code outside
any function. Here a mutant is one small edit of a chapter module's text, of the kinds that
make a wrong number without an error (an arithmetic operator, a comparison, a number, a
dropped transpose or minus sign, max for min; not where a figure puts a label, an arrow or
a shape, nor its sizes and line styles), and it is judged by the chapter's own fast tests
(``tests/test_<chapter>.py``, ``-m "not slow"``), run in a fresh process on a copy of the
project so that the module is imported, and computed, with the mutant in place. A test run that
fails or outlasts its time limit kills the mutant.

Every chapter has hundreds of such sites and a run takes seconds, so a sample, drawn with a
fixed seed from all of them, is judged. The report gives the share killed with its 95% (Wilson)
interval and every survivor, to be read: some change nothing (an equivalent mutant).
"""

from __future__ import annotations

import argparse
import ast
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_BINARY = {ast.Add: ("+", "-"), ast.Sub: ("-", "+"), ast.Mult: ("*", "/"),
           ast.Div: ("/", "*"), ast.Pow: ("**", "*")}
# Numbers that place and style a figure (sizes, widths, colours' alpha, label positions) change
# how a figure looks, not a result; they are not mutated.
_STYLE_CALLS = {"plot", "loglog", "semilogy", "semilogx", "scatter", "fill_between", "axhline",
                "axvline", "text", "annotate", "legend", "subplots", "figure", "bar", "hist",
                "errorbar", "step", "imshow", "tick_params", "margins", "subplots_adjust",
                "linspace_ticks", "show"}
_STYLE_KEYWORDS = {"figsize", "fontsize", "lw", "linewidth", "alpha", "s", "ms", "markersize",
                   "zorder", "pad", "ncol", "ncols", "nrows", "size", "labelpad", "width",
                   "height", "dpi", "loc", "bbox_to_anchor", "xytext", "markevery",
                   "linestyle", "ls", "dashes", "mutation_scale", "shrinkA", "shrinkB",
                   "connectionstyle", "rad"}
# Where a drawing puts a shape, an arrow or a label: the positional arguments of these calls
# (a label's x and y; Matplotlib's patches; the helpers the chapters draw diagrams with, called
# by their bare names) are positions and sizes, none a result, and none is mutated. Keywords
# stay mutated (a colour chosen by a condition says something); a line's data, in ``plot``, too.
_PLACE_CALLS = {"text", "Circle", "FancyBboxPatch", "FancyArrowPatch", "Rectangle", "Polygon"}
_DIAGRAM_HELPERS = {"put", "box", "arrow", "_arrow", "_canvas"}
# Names that hold nothing but where a figure puts things, or its sizes, assigned before the
# call that uses them (so the calls above cannot show it): a table of panel sizes, of label
# positions, a bar group's offsets, a diagram's columns and the ends of its arrows. By module
# (relative to snippets/), since a name such as x_pos is data elsewhere.
_LAYOUT_NAMES = {
    "activations_and_initialisation/activations.py": {"x_pos"},
    "backprop_mlp/backprop.py": {"where"},
    "residual_gradient/diagrams.py": {"col", "top", "a", "b"},
    "shapes_and_jacobians/jacobians.py": {"sizes"},
    "skip_guarantees/guarantees.py": {"LABEL_AT"},
}
_COMPARE = {ast.Lt: ("<", "<="), ast.LtE: ("<=", "<"), ast.Gt: (">", ">="),
            ast.GtE: (">=", ">"), ast.Eq: ("==", "!="), ast.NotEq: ("!=", "==")}


@dataclass(frozen=True)
class Mutant:
    path: str           # relative to the project root
    line: int           # 1-based
    start: int          # column span replaced on that line
    end: int
    new: str
    kind: str

    def apply(self, text: str) -> str:
        lines = text.split("\n")
        old = lines[self.line - 1]
        lines[self.line - 1] = old[:self.start] + self.new + old[self.end:]
        return "\n".join(lines)

    def describe(self, text: str) -> str:
        old = text.split("\n")[self.line - 1]
        return (f"{self.path}:{self.line}: {self.kind}: {old[self.start:self.end]!r} -> "
                f"{self.new!r} in `{old.strip()}`")


def chapters(root: Path = ROOT) -> dict[str, list[Path]]:
    """{chapter folder: its modules} for every snippets/<chapter>/ with tests/test_<chapter>.py."""
    found = {}
    for folder in sorted((root / "snippets").iterdir()):
        if (root / "tests" / f"test_{folder.name}.py").is_file() and folder.name not in (
                "bp", "sitebuild"):
            found[folder.name] = sorted(p for p in folder.glob("*.py") if p.name != "__init__.py")
    return found


def _one_line(node: ast.AST) -> bool:
    return getattr(node, "lineno", None) is not None and node.lineno == node.end_lineno


def mutants_of(path: Path, root: Path = ROOT) -> list[Mutant]:
    """Every mutation site of one module (single-line expressions; strings left alone)."""
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    rel = path.relative_to(root).as_posix()
    tree = ast.parse(text)
    skip = {id(n) for j in ast.walk(tree) if isinstance(j, ast.JoinedStr) for n in ast.walk(j)}
    for call in ast.walk(tree):
        if isinstance(call, ast.Call):
            name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(
                call.func, "id", "")
            styled = [*call.args, *call.keywords] if name in _STYLE_CALLS or \
                name.startswith("set_") else [k for k in call.keywords if k.arg in
                                              _STYLE_KEYWORDS]
            skip |= {id(n) for arg in styled for n in ast.walk(arg)
                     if isinstance(n, ast.Constant)}
            if name == "text":
                placed = call.args[:2]
            elif name in _PLACE_CALLS or (name in _DIAGRAM_HELPERS
                                          and isinstance(call.func, ast.Name)):
                placed = call.args
            else:
                placed = []
            skip |= {id(n) for arg in placed for n in ast.walk(arg)}
    layout = _LAYOUT_NAMES.get(rel.removeprefix("snippets/"), set())
    for assign in ast.walk(tree):
        if isinstance(assign, ast.Assign) and {
                n.id for t in assign.targets for n in ast.walk(t) if isinstance(n, ast.Name)
        } & layout:
            skip |= {id(n) for n in ast.walk(assign.value)}
    found = []
    for node in ast.walk(tree):
        if not _one_line(node) or id(node) in skip:
            continue
        line = lines[node.lineno - 1]
        mutant = _mutant_of(node, line, rel)
        if mutant is not None:
            found.append(mutant)

    kept = []
    for mutant in found:
        try:
            ast.parse(mutant.apply(text))
        except SyntaxError:
            continue
        kept.append(mutant)
    return sorted(set(kept), key=lambda m: (m.path, m.line, m.start, m.new))



def _mutant_of(node: ast.AST, line: str, rel: str) -> Mutant | None:
    """The mutant of one expression node on ``line``, or None. The AST gives columns in
    UTF-8 bytes; the edit is made in characters (the chapters print ∇, ᵀ and ·)."""
    encoded = line.encode("utf-8")

    def col(offset: int) -> int:
        return len(encoded[:offset].decode("utf-8"))

    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY and _one_line(node.right):
        old, new = _BINARY[type(node.op)]
        gap = line[col(node.left.end_col_offset):col(node.right.col_offset)]
        if gap.count(old) == 1 and (old != "*" or "**" not in gap):
            at = col(node.left.end_col_offset) + gap.index(old)
            return Mutant(rel, node.lineno, at, at + len(old), new, "operator")
    elif isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in \
            _COMPARE and _one_line(node.comparators[0]):
        old, new = _COMPARE[type(node.ops[0])]
        gap = line[col(node.left.end_col_offset):col(node.comparators[0].col_offset)]
        if gap.strip() == old:
            at = col(node.left.end_col_offset) + gap.index(old)
            return Mutant(rel, node.lineno, at, at + len(old), new, "comparison")
    elif isinstance(node, ast.Constant) and type(node.value) in (int, float):
        value = node.value
        new = repr(value + 1) if isinstance(value, int) else repr(value * 2 if value else 1.0)
        return Mutant(rel, node.lineno, col(node.col_offset), col(node.end_col_offset), new,
                      "number")
    elif isinstance(node, ast.Attribute) and node.attr in ("T", "mT"):
        return Mutant(rel, node.lineno, col(node.value.end_col_offset),
                      col(node.end_col_offset), "", "transpose dropped")
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and \
            line[col(node.col_offset)] == "-":
        return Mutant(rel, node.lineno, col(node.col_offset), col(node.col_offset) + 1, "",
                      "minus dropped")
    elif isinstance(node, ast.Call):
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(
            node.func, "id", None)
        swap = {"max": "min", "min": "max", "argmax": "argmin", "argmin": "argmax"}
        if name in swap and _one_line(node.func):
            end = col(node.func.end_col_offset)
            return Mutant(rel, node.lineno, end - len(name), end, swap[name],
                          "max/min swapped")
    return None


def _copy_project(dest: Path) -> None:
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.split()
    for name in files:
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)


def judging_tests(module: Path, root: Path = ROOT) -> list[str]:
    """The test files that judge ``module`` (snippets/<chapter>/<name>.py): its chapter's,
    and every other that imports it (the interactive figures' data has tests of its own).

    >>> judging_tests(ROOT / "snippets" / "jacobian_spectra" / "explorer.py")
    ['tests/test_explorers.py', 'tests/test_jacobian_spectra.py']
    """
    chapter, name = module.parent.name, module.stem
    imports = re.compile(rf"snippets\.{chapter}\.{name}\b|from snippets\.{chapter} import "
                         rf"[^\n]*\b{name}\b|run_page\(\"snippets\.{chapter}\.{name}\"")
    found = {f"tests/test_{chapter}.py"}
    for test in (root / "tests").glob("test_*.py"):
        if imports.search(test.read_text(encoding="utf-8")):
            found.add(test.relative_to(root).as_posix())
    return sorted(found)


def _run_tests(copy: Path, tests: list[str], timeout: float) -> tuple[bool, float]:
    """(passed, seconds) for the fast tests of ``tests`` in ``copy``."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "OMP_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1", "PYTHONPATH": str(copy)}
    start = time.perf_counter()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
             "-m", "not slow", "-o", "addopts=", *tests],
            cwd=copy, env=env, capture_output=True, timeout=timeout)
        passed = result.returncode == 0
    except subprocess.TimeoutExpired:
        passed = False
    return passed, time.perf_counter() - start


def wilson(killed: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% interval for a share from ``killed`` of ``n``.

    >>> [round(v, 3) for v in wilson(180, 200)]
    [0.851, 0.934]
    """
    p = killed / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)

    modules = chapters()
    sites = {name: [m for path in paths for m in mutants_of(path)]
             for name, paths in modules.items()}
    every = [(name, m) for name, found in sites.items() for m in found]
    print(f"{len(every)} mutation sites in {sum(map(len, modules.values()))} modules of "
          f"{len(modules)} chapters; judging a sample of {min(args.sample, len(every))} "
          f"(seed {args.seed})", flush=True)
    sample = random.Random(args.seed).sample(every, min(args.sample, len(every)))

    with tempfile.TemporaryDirectory() as tmp:
        copies = [Path(tmp) / f"copy{i}" for i in range(args.workers)]
        for copy in copies:
            _copy_project(copy)
        judges = {m.path: judging_tests(ROOT / m.path) for _, m in sample}
        limits = {}
        for tests in sorted({tuple(t) for t in judges.values()}):
            passed, seconds = _run_tests(copies[0], list(tests), timeout=600)
            if not passed:
                raise SystemExit(f"{', '.join(tests)} fail without a mutant")
            limits[tests] = max(30.0, 4 * seconds)
        free = list(copies)

        def judge(item):
            chapter, mutant = item
            copy = free.pop()
            target = copy / mutant.path
            original = target.read_text(encoding="utf-8")
            tests = tuple(judges[mutant.path])
            try:
                target.write_text(mutant.apply(original), encoding="utf-8")
                passed, _ = _run_tests(copy, list(tests), limits[tests])
            finally:
                target.write_text(original, encoding="utf-8")
                free.append(copy)
            return chapter, mutant, not passed, mutant.describe(original)

        with ThreadPoolExecutor(args.workers) as pool:
            results = list(pool.map(judge, sample))

    killed = sum(k for _, _, k, _ in results)
    low, high = wilson(killed, len(results))
    print(f"\nkilled {killed} of {len(results)} ({killed / len(results):.1%}; 95% interval "
          f"{low:.1%} to {high:.1%})")
    for chapter in sorted(modules):
        mine = [k for c, _, k, _ in results if c == chapter]
        if mine:
            print(f"  {chapter}: {sum(mine)} of {len(mine)}")
    print("\nsurvivors:")
    for _, _, was_killed, description in sorted(results, key=lambda r: r[3]):
        if not was_killed:
            print(f"  {description}")


if __name__ == "__main__":
    main()
