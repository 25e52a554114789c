"""Time the site build in the situations that matter to a writer and to CI.

    python -m snippets.sitebuild.benchmark [--repeat 3]

Works on a temporary copy of the project (the checkout is never edited) and prints, for each
scenario, the median wall time of ``mkdocs build --strict`` (a new process, as on the command
line) and the build time MkDocs reports itself (without interpreter start-up and imports):

* cold: every cache cleared (snippet outputs, rendered notebooks, generated notebooks,
  compiled Python files), as in a fresh clone;
* cold with only one cache cleared, one scenario per cache: the snippet outputs
  (``.cache/exec``), the notebook pages mkdocs-jupyter rendered (``.cache/mkdocs-jupyter``);
* warm: rebuild with nothing changed, every output from the cache;
* one snippet edited: a section of one chapter file changed before each build;
* cold, caches disabled: ``BP_EXEC_CACHE=false``;
* execution off: ``BP_EXECUTE=false``, pages show code without output (the floor);
* cold beside two CPU-bound processes that keep both cores busy;
* ``mkdocs serve``: a snippet section saved, to the rebuilt page being served; the time serve
  reports for that rebuild, and the wall time from the save to the new page.

Then the ratios the project's goals are stated in.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import itertools
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
QUIET = {"NO_MKDOCS_2_WARNING": "1"}


def _build(project: Path, env: dict[str, str]) -> tuple[float, float]:
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict"],
        cwd=project, env={**os.environ, **QUIET, **env},
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


@contextlib.contextmanager
def busy_cores(count: int):
    """``count`` processes that keep a core busy each, until the block ends (the
    benchmark's loaded scenario, and the tests' reproducibility under load)."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                for _ in range(count)]
    try:
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


def _serve_edit(project: Path, edit, marker, repeat: int) -> list[tuple[float, float]]:
    """Start ``mkdocs serve``; ``repeat`` times, save an edit and wait for the page to show
    it. Returns (seconds serve reports for the rebuild, wall seconds from save to page)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "mkdocs", "serve", "-a", f"127.0.0.1:{port}"],
        cwd=project, env={**os.environ, **QUIET},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(server.stdout.readline, "")),
                              daemon=True)
    reader.start()
    results = []
    try:
        base = _wait_for_line(lines, r"Serving on (http://\S+)", 300)[1].rstrip("/") + "/"
        page_url = base + marker["page"]
        for _ in range(repeat):
            seen = len(lines)
            time.sleep(1.0)  # the watcher must see a new modification time
            token = edit()
            start = time.perf_counter()
            while True:
                with contextlib.suppress(OSError):
                    with urllib.request.urlopen(page_url, timeout=5) as response:
                        # The code is highlighted: a token per span, so compare the text.
                        shown = html.unescape(re.sub(r"<[^>]+>", "", response.read().decode()))
                        if token in shown:
                            break
                if time.perf_counter() - start > 120:
                    raise SystemExit("serve never showed the edit:\n" + "".join(lines[-40:]))
                time.sleep(0.02)
            wall = time.perf_counter() - start
            built = _wait_for_line(lines, r"Documentation built in ([\d.]+) seconds", 30, seen)
            results.append((float(built[1]), wall))
    finally:
        server.terminate()
        server.wait(timeout=30)
    return results


def _wait_for_line(lines: list[str], pattern: str, timeout: float, start: int = 0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in lines[start:]:
            if match := re.search(pattern, line):
                return match
        time.sleep(0.02)
    raise SystemExit(f"no line matched {pattern!r}:\n" + "".join(lines[-40:]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="builds per scenario (median)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bp-bench-") as tmp:
        project = Path(tmp) / "project"
        project.mkdir()
        for name in ("mkdocs.yml", "pyproject.toml", "LICENSE"):
            shutil.copy(ROOT / name, project)
        for folder in ("docs", "snippets"):
            shutil.copytree(ROOT / folder, project / folder,
                            ignore=shutil.ignore_patterns("__pycache__"))
        (project / ".vendor").symlink_to(ROOT / ".vendor")
        caches = project / ".cache"
        edit_path, section = _edit_target(project)
        chapter = next(p.stem for p in (project / "docs").glob("*.md")
                       if f'{edit_path.relative_to(project)}:{section}"' in p.read_text())

        def clear(*names: str):
            def before():
                for name in names:
                    shutil.rmtree(caches / name, ignore_errors=True)
                if not names:
                    shutil.rmtree(caches, ignore_errors=True)
                    for folder in project.rglob("__pycache__"):
                        shutil.rmtree(folder)
            return before

        edits = itertools.count(1)  # each edit differs from the last

        def edit() -> str:
            text = edit_path.read_text()
            marker = f"# --8<-- [end:{section}]"
            text = re.sub(r"\n_benchmark_edit = \d+(?=\n)", "", text)
            token = f"_benchmark_edit = {next(edits)}"
            edit_path.write_text(text.replace(marker, f"{token}\n{marker}"))
            return token

        scenarios = [
            ("cold, every cache cleared", {}, clear(), None),
            ("cold, snippet outputs cleared", {}, clear("exec"), None),
            ("cold, rendered notebooks cleared", {}, clear("mkdocs-jupyter"), None),
            ("warm (nothing changed)", {}, None, None),
            (f"one snippet edited ({edit_path.name}:{section})", {}, edit, None),
            ("cold, caches disabled", {"BP_EXEC_CACHE": "false"}, None, None),
            ("execution off", {"BP_EXECUTE": "false"}, None, None),
            ("cold, beside 2 CPU-bound processes", {}, clear(), 2),
        ]
        _build(project, {})  # first run pays for .pyc files and font caches
        timings = Path(tmp) / "timings.json"
        clear()()
        _build(project, {"BP_EXEC_TIMINGS": str(timings)})
        measured = json.loads(timings.read_text())
        per_page, per_block = measured["pages"], measured["blocks"]
        results = {}
        for name, env, before, load in scenarios:
            times = []
            for _ in range(args.repeat):
                if before:
                    before()
                with busy_cores(load) if load else contextlib.nullcontext():
                    times.append(_build(project, env))
            results[name] = (statistics.median(t[0] for t in times),
                             statistics.median(t[1] for t in times))
        _build(project, {})
        served = _serve_edit(project, edit, {"page": f"{chapter}/"}, args.repeat)

    width = max(map(len, results))
    print(f"{'scenario':<{width}}  {'wall s':>7}  {'mkdocs s':>8}")
    for name, (wall, reported) in results.items():
        print(f"{name:<{width}}  {wall:7.2f}  {reported:8.2f}")
    serve_reported = statistics.median(s[0] for s in served)
    serve_wall = statistics.median(s[1] for s in served)
    print(f"{'mkdocs serve: snippet saved -> page':<{width}}  {serve_wall:7.2f}  "
          f"{serve_reported:8.2f}")
    print(f"\nsnippet execution per page, cold (total {sum(per_page.values()):.2f} s):")
    for page, seconds in sorted(per_page.items(), key=lambda item: -item[1]):
        print(f"  {page:<40} {seconds:5.2f} s")
    print("the slowest blocks:")
    for block, seconds in sorted(per_block.items(), key=lambda item: -item[1])[:12]:
        print(f"  {block:<60} {seconds:5.2f} s")
    warm = results["warm (nothing changed)"]
    off = results["execution off"]
    cold = results["cold, every cache cleared"]
    loaded = results["cold, beside 2 CPU-bound processes"]
    print("\ngoals:")
    print(f"  cold build, every cache cleared: {cold[0]:.2f} s wall (goal: at most 10 s)")
    print(f"  cold beside 2 busy processes / quiet: {loaded[0] / cold[0]:.2f}x wall "
          "(goal: at most 3x)")
    print(f"  serve, snippet saved -> rebuilt: {serve_reported:.2f} s as serve reports it, "
          f"{serve_wall:.2f} s to the page (goal: at most 3 s)")
    print(f"  warm / execution off: {warm[0] / off[0]:.2f}x wall, "
          f"{warm[1] / off[1]:.2f}x mkdocs-reported (goal: at most 1.2x)")
    print(f"median of {args.repeat} builds each; Python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
