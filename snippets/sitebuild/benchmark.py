"""Time the site build in the situations that matter to a writer and to CI.

    python -m snippets.sitebuild.benchmark [--repeat 3]

Works on a temporary copy of the project (the checkout is never edited) and prints, for each
scenario, the median wall time of ``mkdocs build --strict`` (a new process, as on the command
line) and the build time MkDocs reports itself (without interpreter start-up and imports):

* cold: no cached outputs, every snippet runs;
* warm: rebuild with nothing changed, every output from the cache;
* one snippet edited: a section of one chapter file changed before each build;
* cold, cache disabled: ``BP_EXEC_CACHE=false``;
* execution off: ``BP_EXECUTE=false``, pages show code without output (the floor).

The goal for a warm rebuild is at most 1.5 times the build with execution off.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _build(project: Path, env: dict[str, str]) -> tuple[float, float]:
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict"],
        cwd=project, env={**os.environ, "NO_MKDOCS_2_WARNING": "1", **env},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    wall = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"build failed:\n{result.stdout}")
    reported = re.search(r"Documentation built in ([\d.]+) seconds", result.stdout)
    return wall, float(reported[1]) if reported else float("nan")


def _edit_target(project: Path) -> tuple[Path, str]:
    """The last section of the first chapter file: editing it re-runs one block."""
    for path in sorted((project / "snippets").glob("*/*.py")):
        if path.parent.name in {"bp", "sitebuild"}:
            continue
        ends = re.findall(r"^# --8<-- \[end:([-\w]+)\]$", path.read_text(), re.M)
        if ends:
            return path, ends[-1]
    raise SystemExit("no chapter snippet with sections found")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="builds per scenario (median)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bp-bench-") as tmp:
        project = Path(tmp) / "project"
        project.mkdir()
        shutil.copy(ROOT / "mkdocs.yml", project)
        for folder in ("docs", "snippets"):
            shutil.copytree(ROOT / folder, project / folder,
                            ignore=shutil.ignore_patterns("__pycache__"))
        (project / ".vendor").symlink_to(ROOT / ".vendor")
        cache = project / ".cache" / "exec"
        cached = {"BP_EXEC_CACHE_DIR": str(cache)}
        edit_path, section = _edit_target(project)

        def cold():
            shutil.rmtree(cache, ignore_errors=True)

        edits = itertools.count(1)  # each edit differs from the last

        def edit():
            text = edit_path.read_text()
            marker = f"# --8<-- [end:{section}]"
            text = re.sub(r"\n_benchmark_edit = \d+(?=\n)", "", text)
            edit_path.write_text(text.replace(marker, f"_benchmark_edit = {next(edits)}\n{marker}"))

        scenarios = [
            ("cold (caches cleared)", cached, cold),
            ("warm (nothing changed)", cached, None),
            (f"one snippet edited ({edit_path.name}:{section})", cached, edit),
            ("cold, cache disabled", {"BP_EXEC_CACHE": "false"}, None),
            ("execution off", {"BP_EXECUTE": "false"}, None),
        ]
        _build(project, cached)  # first run pays for .pyc files and font caches
        timings = Path(tmp) / "timings.json"
        cold()
        _build(project, {**cached, "BP_EXEC_TIMINGS": str(timings)})
        per_page = json.loads(timings.read_text())
        results = {}
        for name, env, before in scenarios:
            times = []
            for _ in range(args.repeat):
                if before:
                    before()
                times.append(_build(project, env))
            results[name] = (statistics.median(t[0] for t in times),
                             statistics.median(t[1] for t in times))

    width = max(map(len, results))
    print(f"{'scenario':<{width}}  {'wall s':>7}  {'mkdocs s':>8}")
    for name, (wall, reported) in results.items():
        print(f"{name:<{width}}  {wall:7.2f}  {reported:8.2f}")
    print(f"\nsnippet execution per page, cold (total {sum(per_page.values()):.2f} s):")
    for page, seconds in sorted(per_page.items(), key=lambda item: -item[1]):
        print(f"  {page:<40} {seconds:5.2f} s")
    warm = results["warm (nothing changed)"]
    off = results["execution off"]
    print(f"\nwarm / execution off: {warm[0] / off[0]:.2f}x wall, "
          f"{warm[1] / off[1]:.2f}x mkdocs-reported (goal: at most 1.5x)")
    print(f"median of {args.repeat} builds each; Python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
