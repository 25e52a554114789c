"""Shared helpers: run MkDocs as a reader would (a new process per build), and build small
fixture sites."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from snippets.sitebuild.benchmark import busy_cores
from snippets.sitebuild.browser import browser_missing

ROOT = Path(__file__).resolve().parents[1]
QUIET = {"NO_MKDOCS_2_WARNING": "1"}

FIXTURE_CONFIG = """\
site_name: Fixture
theme:
  name: mkdocs
watch:
  - snips
validation:
  omitted_files: warn
  absolute_links: warn
  unrecognized_links: warn
  anchors: warn
plugins:
  - backprop:
      cache_dir: .cache/exec
  - markdown-exec
markdown_extensions:
  - toc
  - attr_list
  - md_in_html
  - pymdownx.superfences
  - pymdownx.snippets:
      check_paths: true
"""


def run_mkdocs(*args: str, cwd: Path, env: dict[str, str] | None = None,
               timeout: float = 600) -> subprocess.CompletedProcess:
    """``python -m mkdocs <args>`` in ``cwd``; output is text, stderr merged into stdout."""
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", *args],
        cwd=cwd, env={**os.environ, **QUIET, **(env or {})},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout,
    )


class _Builder:
    """The helper process that forks a child per fixture-site build (tests/build_zygote.py),
    started at the first such build and ended with the test session."""

    process: subprocess.Popen | None = None

    @classmethod
    def run(cls, args: list[str], cwd: Path, env: dict[str, str],
            timeout: float) -> subprocess.CompletedProcess:
        if cls.process is None or cls.process.poll() is not None:
            cls.process = subprocess.Popen(
                [sys.executable, "-m", "tests.build_zygote"], cwd=ROOT,
                env={**os.environ, **QUIET, "OPENBLAS_NUM_THREADS": "1"},  # no BLAS threads
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        with tempfile.NamedTemporaryFile("r", suffix=".log", encoding="utf-8") as out:
            request = {"args": args, "cwd": str(cwd), "env": env, "out": out.name}
            cls.process.stdin.write(json.dumps(request) + "\n")
            cls.process.stdin.flush()
            pid = json.loads(cls.process.stdout.readline())["pid"]
            # The helper answers when the build ends; read in a thread, to stop waiting
            # after ``timeout`` (a select() on the pipe could miss an answer already read
            # into the file object's buffer).
            answer: list[str] = []
            reader = threading.Thread(
                target=lambda: answer.append(cls.process.stdout.readline()), daemon=True)
            reader.start()
            reader.join(timeout)
            timed_out = reader.is_alive()
            if timed_out:
                # the child leads its own process group: its workers go with it
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
                reader.join()
            code = json.loads(answer[0])["code"]
            output = out.read()
        if timed_out:
            raise subprocess.TimeoutExpired(["mkdocs", *args], timeout, output)
        return subprocess.CompletedProcess(["mkdocs", *args], code, output, None)


@pytest.fixture(scope="session", autouse=True)
def _end_the_builder():
    yield
    if _Builder.process is not None:
        _Builder.process.stdin.close()
        _Builder.process.wait(timeout=30)
        _Builder.process.stdout.close()


@dataclass
class FixtureSite:
    """A throwaway MkDocs project: docs/ pages, snips/ code, the site's plugin configured."""

    root: Path

    def write(self, relpath: str, text: str) -> Path:
        path = self.root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    def build(self, *extra: str, strict: bool = True, env: dict[str, str] | None = None,
              fresh: bool = False) -> subprocess.CompletedProcess:
        """``fresh``: in a new interpreter (its own hash seed, its own start-up), as the
        command line runs it; otherwise forked from the build helper, unless the fixture or
        ``env`` needs a new interpreter anyway."""
        args = ["build", *(["--strict"] if strict else []), *extra]
        # The fixture sites are not git checkouts; fix the date the theme stamps on pages.
        env = {"SOURCE_DATE_EPOCH": "1700000000", **(env or {})}
        own_package = any((self.root / name).exists() for name in
                          ("snippets", "tests", "snippets.py", "tests.py"))
        # Variables an interpreter reads when it starts (the import path, the hash seed,
        # the BLAS threads) would be ignored by a forked child.
        at_start = [k for k in env if k.startswith(("PYTHON", "OPENBLAS", "OMP", "MKL", "MPL"))]
        if fresh or own_package or at_start:
            return run_mkdocs(*args, cwd=self.root, env=env)
        # A new process for each build, forked from one that has imported MkDocs and the
        # plugin already.
        return _Builder.run(args, self.root, {**os.environ, **QUIET, **env}, timeout=600)

    def html(self, page: str = "index.html") -> str:
        return (self.root / "site" / page).read_text(encoding="utf-8")


NETGUARD = Path(__file__).resolve().parent / "netguard"


def _offline(dest: Path, env: dict[str, str]) -> tuple[Path, dict[str, str]]:
    network_log = dest.with_name(dest.name + ".network.log")
    network_log.unlink(missing_ok=True)
    pythonpath = os.pathsep.join(p for p in (str(NETGUARD), os.environ.get("PYTHONPATH")) if p)
    return network_log, {"PYTHONPATH": pythonpath, "BP_NETWORK_LOG": str(network_log), **env}


def _check_offline(network_log: Path) -> None:
    tried = network_log.read_text() if network_log.exists() else ""
    assert tried == "", f"the build tried to reach the network:\n{tried}"


def build_site(dest: Path, **env: str) -> subprocess.CompletedProcess:
    """A strict build of the real site into ``dest``, with the network closed: the netguard
    refuses (and logs) any connection off the machine."""
    network_log, env = _offline(dest, env)
    result = run_mkdocs("build", "--strict", "--site-dir", str(dest), cwd=ROOT, env=env)
    assert result.returncode == 0, result.stdout
    _check_offline(network_log)
    return result


def build_sites_at_once(dests: list[Path], envs: list[dict[str, str]],
                        timeout: float) -> list[str]:
    """Strict offline builds of the real site, all started together; their logs."""
    started = []
    for dest, env in zip(dests, envs, strict=True):
        network_log, env = _offline(dest, env)
        process = subprocess.Popen(
            [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(dest)],
            cwd=ROOT, env={**os.environ, **QUIET, **env},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        started.append((process, network_log))
    logs = []
    try:
        for process, network_log in started:
            output, _ = process.communicate(timeout=timeout)
            assert process.returncode == 0, output
            _check_offline(network_log)
            logs.append(output)
    finally:
        for process, _ in started:
            process.kill()
    return logs




@dataclass
class ColdBuilds:
    site: Path          # the read-only tests' site
    log: str
    cache: Path         # its cache, filled by the cold build
    twin: Path          # a second cold build of the same commit, built at the same time


# Work to start in the background as soon as the shared site is built: functions
# (session, site folder), registered by test modules as they are imported (the browser pool).
WHEN_THE_SITE_IS_BUILT: list = []


def pytest_collection_modifyitems(session, config, items) -> None:
    # The tests that read the browser pool's verdicts last: their pages are checked in the
    # background from the moment the site is built, while the other tests run.
    items.sort(key=lambda item: "pooled" in getattr(item, "fixturenames", ()))


@pytest.fixture(scope="session", autouse=True)
def _the_site_first(request):
    """The shared site is built before the first test, if any selected test reads it (and
    is not a browser test about to be skipped), so that the work started when it is built
    overlaps the most."""
    readers = [getattr(item, "fixturenames", ()) for item in request.session.items]
    readers = [names for names in readers if "cold_builds" in names]
    if any("pooled" not in names for names in readers) or \
            (readers and browser_missing() is None):
        # A failed build is reported by the tests that read the site (pytest keeps the
        # error for them), not by whichever test happens to come first.
        with contextlib.suppress(Exception, pytest.fail.Exception):
            request.getfixturevalue("cold_builds")


@pytest.fixture(scope="session")
def cold_builds(request, tmp_path_factory) -> ColdBuilds:
    """Two cold builds of the real site (empty caches), started together while two other
    processes keep both cores busy: the reproducibility test compares them, the first serves
    every read-only test. (Bounded in time: more than 10 minutes fails.)"""
    base = tmp_path_factory.mktemp("site")
    dests = [base / "cold", base / "twin"]
    envs = [{"BP_EXEC_CACHE_DIR": str(base / f"cache{i}" / "exec"),
             "BP_NOTEBOOK_CACHE_DIR": str(base / f"cache{i}" / "notebooks")} for i in (0, 1)]
    with busy_cores(os.cpu_count() or 2):
        logs = build_sites_at_once(dests, envs, timeout=600)
    for start in WHEN_THE_SITE_IS_BUILT:
        # if it cannot start, its tests start it again when they need it, and report why
        with contextlib.suppress(Exception):
            start(request.session, dests[0])
    return ColdBuilds(site=dests[0], log=logs[0], cache=base / "cache0", twin=dests[1])


@pytest.fixture(scope="session")
def cold_build(cold_builds) -> tuple[Path, str]:
    """(site folder, build log) of the shared cold build."""
    return cold_builds.site, cold_builds.log


@pytest.fixture(scope="session")
def site(cold_builds) -> Path:
    return cold_builds.site


@pytest.fixture
def fixture_site(tmp_path: Path) -> FixtureSite:
    site = FixtureSite(tmp_path / "proj")
    site.write("mkdocs.yml", FIXTURE_CONFIG)
    site.write("snips/__init__.py", "")
    site.write("docs/index.md", "# Fixture\n")
    return site
