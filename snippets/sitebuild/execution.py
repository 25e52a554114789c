"""Run the site's code blocks at build time, once, with a content-hash cache in front.

markdown-exec decides *what* to show (source, text output, HTML); this module decides *whether*
a block must run again, and runs it. The plugin runs every page's blocks before any page is
rendered (:meth:`Executor.execute_page`), so that one execution feeds both the page and its
companion notebook; rendering then only looks the results up (:meth:`Executor.run`).

A block's result is a list of output *events*, as Jupyter records them: printed text
(``["stream", text]``) and rich displays (``["display", {mime type: data}]``, what
:func:`snippets.figures.show` emits for a figure). A block's cache key covers everything its
output can depend on:

* its own code and the code of the blocks before it in the same session on the page;
* the source of every project module those blocks import, followed transitively
  (``import snippets.bp.activations`` brings in ``snippets/__init__.py``,
  ``snippets/bp/__init__.py`` and ``snippets/bp/activations.py`` and whatever they import);
* the versions of Python, NumPy and Matplotlib.

Change any of these and the block runs again; change nothing and its stored output is reused.
A block may also read files (a table of errata, a page's headings): the files under the
project root that it, or an earlier block of its session, opened while running are recorded
with their digests, and a change to any of them makes the stored output stale too.
A stored entry's first line is a digest of its key and of the bytes that follow: an entry that
was corrupted or edited on disk is detected, reported, and the block runs again. A cached block
in a session is not executed, so when a later block of that session must run, the earlier ones
are first replayed silently to rebuild the namespace it expects.

Pages are independent (a session lives within one page), so when several pages must run, they
run in parallel worker processes, forked from the build (:meth:`Executor.execute_pages`); one
page, as after an edit under ``mkdocs serve``, runs in the build's own process.

Two limits keep a bad snippet from hanging a build or bloating a page: a block that runs longer
than ``timeout`` seconds, or prints more than ``max_output`` characters, fails with a message
naming the page, the snippet file and the line it had reached.
"""

from __future__ import annotations

import ast
import contextlib
import ctypes
import functools
import hashlib
import io
import json
import logging
import multiprocessing
import os
import platform
import re
import signal
import sys
import threading
import time
import traceback
import types
import warnings
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from snippets.sitebuild.fences import ExecFence

CACHE_FORMAT = 4  # bump when the meaning of a stored entry changes
log = logging.getLogger("mkdocs.plugins.backprop")


class BlockError(Exception):
    """A block failed; ``str()`` is Markdown naming page, snippet file and line."""


class BlockTimeout(BaseException):
    """Raised inside a block that ran past its time limit."""  # snippet must not swallow it)


class OutputLimit(Exception):  # noqa: N818
    """Raised inside a block that printed more than its limit."""


# Files a running block opens, seen through Python's audit events (every open() raises one);
# None while no block runs. A hook cannot be removed, so it is added once and stays cheap.
_reads: list | None = None


def _audit(event: str, args: tuple) -> None:
    if _reads is not None and event == "open" and isinstance(args[0], str | bytes | Path):
        _reads.append(args[0])


sys.addaudithook(_audit)


def module_files(code: str, root: Path, *, importer: Path | None = None) -> set[Path]:
    """Project files that running ``code`` imports, directly or through other project modules.

    Only files under ``root`` count (the standard library and NumPy are covered by the
    versions in the key). Imports are read statically with :mod:`ast`, so an import hidden in
    a string passed to ``importlib`` is not seen. ``importer`` is the file ``code`` came from,
    needed to resolve relative imports.

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> (root / "pkg").mkdir()
    >>> _ = (root / "pkg" / "__init__.py").write_text("")
    >>> _ = (root / "pkg" / "a.py").write_text("from . import b")
    >>> _ = (root / "pkg" / "b.py").write_text("import numpy")
    >>> sorted(p.name for p in module_files("import pkg.a", root))
    ['__init__.py', 'a.py', 'b.py']
    """
    found: set[Path] = set()
    todo = [(code, importer)]
    while todo:
        source, path = todo.pop()
        for name in _imported_names(source, path, root):
            for file in _module_chain(name, root):
                if file not in found:
                    found.add(file)
                    todo.append((_source(file), file))
    return found


def _source(file: Path) -> str:
    # Read once per file and version: one build asks for the same modules hundreds of times.
    stat = file.stat()
    return _source_at(file, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=1024)
def _source_at(file: Path, mtime_ns: int, size: int) -> str:
    return file.read_text(encoding="utf-8")


@functools.lru_cache(maxsize=4096)
def _imported_names(source: str, path: Path | None, root: Path) -> tuple[str, ...]:
    # Cached: a session's earlier blocks enter the key of every later block.
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return ()  # running it will report the error with its line
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                if path is None:
                    continue
                package = path.parent.relative_to(root).parts
                package = package[: len(package) - (node.level - 1)]
                base = ".".join([*package, *([base] if base else [])])
            names.append(base)
            # `from pkg import mod` may name a submodule rather than an attribute
            names += [f"{base}.{alias.name}" for alias in node.names if alias.name != "*"]
    return tuple(name for name in names if name)


@functools.lru_cache(maxsize=4096)
def _module_chain(name: str, root: Path) -> tuple[Path, ...]:
    """Files executed by ``import name`` that lie under ``root``: each package's
    ``__init__.py`` on the way down, then the module itself. (Kept for one build: the
    executor's constructor clears it, as a module may have been added since.)"""
    files = []
    folder = root
    parts = name.split(".")
    for i, part in enumerate(parts):
        package = folder / part / "__init__.py"
        module = folder / f"{part}.py"
        if package.is_file():
            files.append(package)
            folder = folder / part
        elif module.is_file() and i == len(parts) - 1:
            files.append(module)
        else:
            break
    return tuple(files)


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for dist in ("numpy", "matplotlib"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = "absent"
    return versions


@contextlib.contextmanager
def _isolated_state():
    """Undo a block's changes to NumPy's print options and Matplotlib's rcParams.

    Such global state would otherwise leak into blocks that run later in the process, and
    whether they see it would depend on which blocks came from the cache.
    """
    import matplotlib as mpl
    import numpy as np

    with np.printoptions(), mpl.rc_context():
        yield


class Capture(io.TextIOBase):
    """The stdout of a running block: what it prints, and what it displays, as events.

    ``display(bundle)`` is the one extension over a text stream: code that can show rich
    output (a figure) looks for it on ``sys.stdout`` (see :func:`snippets.figures.show`).
    Printing past ``limit`` characters raises :class:`OutputLimit` at the ``print``.
    """

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.events: list[list] = []
        self.limit = limit
        self.printed = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.printed += len(text)
        if self.printed > self.limit:
            raise OutputLimit(f"the block printed more than {self.limit:,} characters, the "
                              "limit for one block (max_output in mkdocs.yml): a page should "
                              "show a summary, not raw data")
        if self.events and self.events[-1][0] == "stream":
            self.events[-1][1] += text  # one stream per run of prints, as Jupyter shows them
        elif text:
            self.events.append(["stream", text])
        return len(text)

    def display(self, bundle: dict) -> None:
        self.events.append(["display", bundle])


@contextlib.contextmanager
def _time_limit(seconds: float | None):
    """Raise :class:`BlockTimeout` in this thread once ``seconds`` have passed.

    In the main thread a timer signal interrupts even a blocking call (``time.sleep``); in
    another thread (where signals cannot be received) the exception is set asynchronously and
    fires at the next Python instruction.
    """
    if not seconds:
        yield
        return
    if threading.current_thread() is threading.main_thread():
        def alarm(signum, frame):
            raise BlockTimeout

        previous = signal.signal(signal.SIGALRM, alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        return
    thread_id = threading.get_ident()
    lock, state = threading.Lock(), {"running": True}

    def fire() -> None:
        with lock:
            if state["running"]:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id),
                                                           ctypes.py_object(BlockTimeout))

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        with lock:
            state["running"] = False
        timer.cancel()


@dataclass
class Result:
    """What one block produced: output events, or the error it failed with (Markdown)."""

    events: list = field(default_factory=list)
    error: str | None = None

    def text(self, render: Callable[[dict], str]) -> str:
        """The page's output: printed text, and each display rendered by ``render``."""
        if self.error is not None:
            raise BlockError(self.error)
        return "".join(data if kind == "stream" else render(data) for kind, data in self.events)


def plain_render(bundle: dict) -> str:
    """A display as a page shows it when no renderer knows its type: its HTML, or its text."""
    return bundle.get("text/html") or bundle.get("text/plain", "")


@dataclass
class _Session:
    name: str  # deterministic: it can show up in printed reprs of classes defined in a block
    namespace: dict = field(default_factory=dict)
    blocks: list[ExecFence | None] = field(default_factory=list)  # in run order
    codes: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    reads: dict[str, str] = field(default_factory=dict)  # files read so far: digest
    executed: int = 0  # how many of `blocks` have really run in `namespace`


@dataclass
class Stats:
    executed: int = 0
    cached: int = 0
    replayed: int = 0
    restored: int = 0
    corrupted: int = 0
    seconds: dict[str, float] = field(default_factory=dict)  # execution time per page
    blocks: dict[str, float] = field(default_factory=dict)   # "page: file:section" -> s


class Executor:
    """Runs a page's blocks, consulting and filling the cache.

    ``root`` is the project root: snippet paths in messages are shown relative to it and only
    modules under it enter the cache key. ``cache_dir=None`` turns caching off;
    ``execute=False`` renders no output at all (the benchmark's baseline). ``timeout``
    (seconds, None for none) and ``max_output`` (characters printed) limit each block;
    ``render`` turns a display event into page HTML.
    """

    def __init__(self, root: Path, cache_dir: Path | None, *, execute: bool = True,
                 timeout: float | None = 60.0, max_output: int = 200_000,
                 render: Callable[[dict], str] = plain_render,
                 snapshots: dict | None = None) -> None:
        self.root = root
        self.cache_dir = cache_dir
        self.execute = execute
        self.timeout = timeout
        self.max_output = max_output
        self.render = render
        self.snapshots = snapshots   # kept by the caller across builds (mkdocs serve)
        self.versions = _versions()
        self.stats = Stats()
        self.used_keys: set[str] = set()
        self.keys_seen: set[str] = set()
        self.prepared: dict[str, list[tuple[ExecFence, Result]]] = {}
        # Files do not change during one build (a new Executor serves each build).
        self._closures: dict[Path, frozenset[Path]] = {}
        self._block_files: dict[tuple[str, Path | None], frozenset[Path]] = {}
        _module_chain.cache_clear()
        self._digests: dict[Path, str] = {}
        self._keys: dict[tuple, str] = {}
        self.start_page("", [])

    def execute_pages(self, pages: dict[str, list[ExecFence]], workers: int = 1) -> None:
        """Run (or load) the blocks of every page, before any page is rendered. Pages with a
        block to run are spread over ``workers`` forked processes, longest first (by the
        time they took in the last build that ran them, when the cache knows it)."""
        todo = [page for page, fences in pages.items() if self._must_run(page, fences)]
        for page, fences in pages.items():
            if page not in todo:
                self.execute_page(page, fences)     # every block from the cache
        if workers < 2 or len(todo) < 2 or not _can_fork():
            for page in todo:
                self.execute_page(page, pages[page])
            return
        last = self._timings()
        todo.sort(key=lambda page: -last.get(page, 0.0))
        import matplotlib.pyplot  # noqa: F401  (once here, not once in every worker)
        settings = (self.root, self.cache_dir, self.execute, self.timeout, self.max_output)
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(min(workers, len(todo)), mp_context=context) as pool:
            futures = [(page, pool.submit(_run_page_in_worker, settings, page, pages[page]))
                       for page in todo]
            for page, future in futures:
                results, stats, used = future.result()
                self.prepared[page] = list(zip(pages[page], results, strict=True))
                self.used_keys |= used
                for name in ("executed", "cached", "replayed", "corrupted"):
                    setattr(self.stats, name, getattr(self.stats, name) + getattr(stats, name))
                self.stats.seconds.update(stats.seconds)
                self.stats.blocks.update(stats.blocks)

    def save_timings(self) -> None:
        """Remember how long each page's blocks ran, to schedule the next build."""
        if self.cache_dir is None or not self.stats.seconds:
            return
        timings = {**self._timings(), **self.stats.seconds}
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        (self.cache_dir / "timings.txt").write_text(
            "".join(f"{seconds:.3f} {page}\n" for page, seconds in sorted(timings.items())))

    def _timings(self) -> dict[str, float]:
        path = self.cache_dir / "timings.txt" if self.cache_dir else None
        if path is None or not path.is_file():
            return {}
        timings = {}
        for line in path.read_text().splitlines():
            seconds, _, page = line.partition(" ")
            with contextlib.suppress(ValueError):
                timings[page] = float(seconds)
        return timings

    def _must_run(self, page: str, fences: list[ExecFence]) -> bool:
        """Whether some block of the page has no stored output (without reading any)."""
        if not self.execute or self.cache_dir is None:
            return self.execute
        sessions: dict[str, _Session] = {}
        self.page = page
        for fence in fences:
            code = fence.section.code
            state = sessions.setdefault(fence.session, _Session("")) if fence.session \
                else _Session("")
            key = self._key(code, fence, state)
            state.blocks.append(fence)
            state.codes.append(code)
            if not (self.cache_dir / f"{key}.json").is_file():
                return True
        return False

    def execute_page(self, page: str, fences: list[ExecFence]) -> list[Result]:
        """Run (or load) every block of ``page`` in page order, before the page is rendered;
        :meth:`run` then returns these results instead of running anything."""
        self.start_page(page, fences)
        results = [self.result(fence.section.code, fence.session) for fence in fences]
        self.prepared[page] = list(zip(fences, results, strict=True))
        return results

    def start_page(self, page: str, fences: list[ExecFence]) -> None:
        """Forget the previous page's sessions; ``fences`` are this page's, in page order."""
        self.page = page
        self.pending = list(fences)
        self.ready = list(self.prepared.get(page, []))
        self.block_count = 0
        self.sessions: dict[str, _Session] = {}

    def run(self, code: str, session: str = "") -> str:
        """What the page shows for ``code``; raises :class:`BlockError` if the block failed."""
        for i, (fence, result) in enumerate(self.ready):
            if fence.session == session and _same_code(fence.section.code, code):
                self.block_count += 1
                del self.ready[i]
                return result.text(self.render)
        return self.result(code, session).text(self.render)

    def result(self, code: str, session: str = "") -> Result:
        """Run ``code`` as the next block of the page, or load its stored result."""
        self.block_count += 1
        fence = self._claim(code)
        if not self.execute:
            return Result()
        # Blocks without a session share nothing; a session lives for one page.
        label = re.sub(r"\W", "_", f"{self.page}_{session or self.block_count}")
        state = self.sessions.setdefault(session, _Session(label)) if session else _Session(label)
        key = self._key(code, fence, state)
        state.blocks.append(fence)
        state.codes.append(code)
        state.keys.append(key)
        self.keys_seen.add(key)
        events = self._load(key, fence, state)
        if events is not None:
            self.stats.cached += 1
            return Result(events)
        # This block must run: first rebuild the namespace its session expects, from the
        # latest snapshot a long-lived process kept (mkdocs serve), else by replaying.
        if self.snapshots is not None and state.executed < len(state.blocks) - 1:
            self._restore(state)
        while state.executed < len(state.blocks) - 1:
            replayed = state.blocks[state.executed]
            state.executed += 1
            self.stats.replayed += 1
            try:
                self._exec(state.codes[state.executed - 1], replayed, state)
            except BlockError as error:
                return Result(error=f"while replaying an earlier block of session "
                                    f"'{session}' for block {self.block_count}:\n{error}")
            self._snapshot(state)
        state.executed += 1  # a failed block counts as run, as in a notebook session
        try:
            events = self._exec(code, fence, state)
        except BlockError as error:
            return Result(error=str(error))
        self._snapshot(state)
        self.stats.executed += 1
        self._store(key, events, state.reads)
        return Result(events)

    def _snapshot(self, state: _Session) -> None:
        """Keep a copy of the session's variables after its latest block (keyed by that
        block's cache key, which covers everything before it), so that an edit to a later
        block under ``mkdocs serve`` resumes from here instead of replaying the session."""
        if self.snapshots is None:
            return
        copied = _copy_namespace(state.namespace)
        if copied is not None:
            self.snapshots[state.keys[state.executed - 1]] = copied

    def _restore(self, state: _Session) -> None:
        for i in range(len(state.blocks) - 2, state.executed - 1, -1):
            copied = self.snapshots.get(state.keys[i])
            if copied is None:
                continue
            namespace = state.namespace
            if "__name__" not in namespace:     # the session's module, as _exec makes it
                module = types.ModuleType(f"_backprop_exec_{state.name}")
                sys.modules[module.__name__] = module
                namespace = state.namespace = module.__dict__
            fresh = _copy_namespace(copied)     # the snapshot stays as it was
            namespace.clear()
            namespace.update(fresh)
            state.executed = i + 1
            self.stats.restored += 1
            return

    def _claim(self, code: str) -> ExecFence | None:
        for i, fence in enumerate(self.pending):
            if _same_code(fence.section.code, code):
                return self.pending.pop(i)
        return None

    def _key(self, code: str, fence: ExecFence | None, state: _Session) -> str:
        codes = [*state.codes, code]
        blocks = [*state.blocks, fence]
        # Asked twice per block (is there work to do, then the block itself); the answer
        # cannot change within one build.
        memo = (tuple(codes), tuple(b.section.path if b else None for b in blocks),
                self._where(fence))
        if memo not in self._keys:
            self._keys[memo] = self._compute_key(codes, blocks, fence)
        return self._keys[memo]

    def _compute_key(self, codes: list[str], blocks: list, fence: ExecFence | None) -> str:
        files: set[Path] = set()
        for source, block in zip(codes, blocks, strict=True):
            files |= self._files_of(source, block.section.path if block else None)
        payload = {
            "format": CACHE_FORMAT,
            "codes": codes,
            "origin": self._where(fence),
            "modules": {self._rel(f): self._digest(f) for f in sorted(files)},
            "versions": self.versions,
        }
        blob = json.dumps(payload, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()

    def _files_of(self, source: str, importer: Path | None) -> frozenset[Path]:
        """Project files one block imports, directly or not (every later block's key
        includes its session's earlier blocks, so this is asked again and again)."""
        if (source, importer) not in self._block_files:
            files: set[Path] = set()
            for name in _imported_names(source, importer, self.root):
                for file in _module_chain(name, self.root):
                    files |= self._closure(file)
            self._block_files[source, importer] = frozenset(files)
        return self._block_files[source, importer]

    def _closure(self, file: Path) -> frozenset[Path]:
        """``file`` and every project file it imports, once per build."""
        if file not in self._closures:
            deps = module_files(_source(file), self.root, importer=file)
            self._closures[file] = frozenset({file, *deps})
        return self._closures[file]

    def _digest(self, file: Path) -> str:
        if file not in self._digests:
            self._digests[file] = _file_digest(file)
        return self._digests[file]

    def _load(self, key: str, fence: ExecFence | None, state: _Session) -> list | None:
        if self.cache_dir is None:
            return None
        self.used_keys.add(key)
        path = self.cache_dir / f"{key}.json"
        if not path.is_file():
            return None
        try:
            digest, _, body = path.read_bytes().partition(b"\n")
            # The digest covers the stored bytes as they are: checking it costs one hash,
            # not a second serialisation of every figure the entry holds.
            intact = digest.decode("ascii") == _entry_digest(key, body)
            if intact:
                entry = json.loads(body)
                reads = entry["reads"]
                events = entry["events"]
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            intact = False
        if not intact:
            self.stats.corrupted += 1
            log.info(f"{self.page}: the stored output of block {self.block_count} "
                     f"({self._where(fence)}) was damaged or edited on disk "
                     f"({path.name}); running the block again")
            return None
        changed = [rel for rel, digest in reads.items() if self._read_digest(rel) != digest]
        if changed:
            log.info(f"{self.page}: block {self.block_count} ({self._where(fence)}) read "
                     f"{changed[0]}, which has changed; running it again")
            return None
        state.reads.update(reads)
        return events

    def _read_digest(self, rel: str) -> str | None:
        path = self.root / rel
        try:
            return self._digest(path)
        except OSError:
            return None

    def _store(self, key: str, events: list, reads: dict[str, str]) -> None:
        if self.cache_dir is None:
            return
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        body = json.dumps({"events": events, "reads": reads}).encode()
        tmp = self.cache_dir / f"{key}.tmp"
        tmp.write_bytes(_entry_digest(key, body).encode("ascii") + b"\n" + body)
        tmp.replace(self.cache_dir / f"{key}.json")

    def prune(self) -> int:
        """Delete stored outputs that this build did not use; return how many."""
        if self.cache_dir is None or not self.cache_dir.is_dir():
            return 0
        stale = [p for p in self.cache_dir.iterdir()
                 if p.suffix in {".json", ".out", ".tmp"} and p.stem not in self.used_keys
                 and p.name != "timings.txt"]
        for path in stale:
            path.unlink()
        return len(stale)

    def _exec(self, code: str, fence: ExecFence | None, state: _Session) -> list:
        if fence is not None:
            # Pad with blank lines so that line numbers in tracebacks (and in warnings) are
            # the snippet file's own; the filename is the real file, so its source shows too.
            filename = str(fence.section.path)
            source = "\n" * (fence.section.first_line - 1) + code
        else:
            filename = f"<{self.page} block {self.block_count}>"
            source = code
        namespace = state.namespace
        if "__name__" not in namespace:
            # Classes and dataclasses defined in a block look their module up in sys.modules.
            name = f"_backprop_exec_{state.name}"
            module = types.ModuleType(name)
            sys.modules[name] = module
            namespace = state.namespace = module.__dict__
        capture = Capture(self.max_output)
        start = time.perf_counter()
        global _reads
        _reads = []
        try:
            compiled = compile(source, filename, "exec")
            with contextlib.redirect_stdout(capture), _isolated_state(), \
                    warnings.catch_warnings(), _time_limit(self.timeout):
                # A numerical warning in a worked example is a bug in the example: fail loudly.
                warnings.simplefilter("error")
                for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning):
                    warnings.simplefilter("default", category)
                exec(compiled, namespace)
        except BlockTimeout as error:
            raise BlockError(self._report(error, fence, f"did not finish within its time limit "
                                          f"of {self.timeout:g} s (timeout in mkdocs.yml, or "
                                          "BP_EXEC_TIMEOUT); it was stopped")) from None
        except Exception as error:
            raise BlockError(self._report(error, fence)) from error
        finally:
            opened, _reads = _reads, None
            self._record_reads(opened, state)
            elapsed = time.perf_counter() - start
            seconds = self.stats.seconds
            seconds[self.page] = seconds.get(self.page, 0.0) + elapsed
            if fence is not None:
                where = f"{self.page}: {fence.section.path.name}:{fence.section.name}"
                self.stats.blocks[where] = self.stats.blocks.get(where, 0.0) + elapsed
        return capture.events

    def _record_reads(self, opened: list, state: _Session) -> None:
        """Add the project files a block opened (not under a cache or .git) to its
        session's reads, with their digests."""
        for name in opened:
            path = Path(os.fsdecode(name))
            try:
                path = path.resolve()
                rel = path.relative_to(self.root).as_posix()
            except (OSError, ValueError):
                continue
            if rel.startswith((".", "site/")) or "__pycache__" in rel or not path.is_file():
                continue
            if rel not in state.reads:
                digest = self._read_digest(rel)
                if digest is not None:
                    state.reads[rel] = digest

    def _report(self, error: BaseException, fence: ExecFence | None,
                what: str | None = None) -> str:
        frames = traceback.extract_tb(error.__traceback__)[1:]  # drop this module's exec frame
        frames = [f for f in frames if f.filename != __file__]  # and the time limit's
        trace = "".join(traceback.format_list(frames))
        if what is None:
            trace += "".join(traceback.format_exception_only(type(error), error))
            what = f"raised {type(error).__name__}"
        trace = trace.replace(str(self.root) + "/", "")
        line = next(
            (f.lineno for f in reversed(frames) if fence and f.filename == str(fence.section.path)),
            error.lineno if isinstance(error, SyntaxError) else None,
        )
        where = self._where(fence, line)
        head = f"{self.page}: block {self.block_count} ({where}) {what}"
        return f"```text\n{head}\n\n{trace.rstrip()}\n```\n"

    def _where(self, fence: ExecFence | None, line: int | None = None) -> str:
        if fence is None:
            return "code not from a snippet file"
        s = fence.section
        at = f"line {line}" if line else f"lines {s.first_line}-{s.last_line}"
        return f"{self._rel(s.path)}, section '{s.name}', {at}; page line {fence.page_line}"

    def _rel(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()


def _copy_namespace(namespace: dict) -> dict | None:
    """A deep copy of a session's variables; modules, functions and classes are shared (they
    are not data), and so is what cannot be copied (a closed figure). The functions keep the
    session's module as their globals: a snapshot is restored into that module's dict."""
    import copy

    memo: dict[int, Any] = {}
    for value in namespace.values():
        if isinstance(value, types.ModuleType | types.FunctionType | type):
            memo[id(value)] = value
    copied = {}
    for name, value in namespace.items():
        if name == "__builtins__":
            copied[name] = value
            continue
        try:
            copied[name] = copy.deepcopy(value, memo)
        except Exception:
            copied[name] = value
    return copied


def _can_fork() -> bool:
    # Forking is cheap (the build's imports are shared) and safe on Linux; elsewhere pages run
    # one after another.
    return sys.platform == "linux" and "fork" in multiprocessing.get_all_start_methods()


def _run_page_in_worker(settings: tuple, page: str, fences: list[ExecFence]):
    import threadpoolctl

    # OpenBLAS starts its thread pool afresh in a forked process: limit it again (see the
    # plugin's on_config for why one thread).
    threadpoolctl.threadpool_limits(limits=1, user_api="blas")
    root, cache_dir, execute, timeout, max_output = settings
    executor = Executor(root, cache_dir, execute=execute, timeout=timeout,
                        max_output=max_output)
    results = executor.execute_page(page, fences)
    return results, executor.stats, executor.used_keys


def default_workers() -> int:
    """Worker processes for a build: ``BP_EXEC_WORKERS``, else one per CPU, at most 4."""
    configured = os.environ.get("BP_EXEC_WORKERS")
    return int(configured) if configured else min(4, os.cpu_count() or 1)


def _same_code(a: str, b: str) -> bool:
    return a.strip("\n") == b.strip("\n")


def _entry_digest(key: str, body: bytes) -> str:
    """What a stored entry's first line holds: a hash of its key and of the bytes after
    that line, so that an entry edited, cut short or moved to another key is refused."""
    return hashlib.sha256(key.encode("ascii") + b"\n" + body).hexdigest()
