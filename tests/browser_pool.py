"""Browser checks of many pages, run two at a time, in the background.

A page check spends its time inside Chromium (layout, axe-core's contrast rule), one renderer
process per page, while Python waits. One page at a time leaves a core idle; here each worker
process drives its own Chromium (Playwright's sync API allows one instance per thread or
process) and takes the next page from a shared queue, so the longest pages start first and
the two cores stay busy. A check is a function ``check(browser, base_url, site, item)`` in a
test module; it raises on failure, and the test for that item reports what it raised.

Each worker serves the site itself, so that the pool can run while the test session goes on
with other tests (``Background``, started by tests/test_browser.py's ``start_the_pool`` as
soon as the site is built): no page waits for a test process busy with NumPy.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import multiprocessing
import os
import queue
import threading
import time
import traceback
from pathlib import Path

from snippets.sitebuild.browser import CHROMIUM_ARGS, chromium_path, serve

WORKERS = int(os.environ.get("BP_BROWSER_WORKERS", "2"))


WORKER_FAILED = "the worker failed"   # a result's name: the worker's own failure follows


def _worker(module: str, site: str, tasks, results) -> None:
    try:
        from playwright.sync_api import sync_playwright

        checks = importlib.import_module(module)
        with serve(Path(site)) as base_url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium_path(),
                                                 args=CHROMIUM_ARGS)
            try:
                while (task := tasks.get()) is not None:
                    name, item, options = task
                    more = {}

                    def check(name=name, item=item, options=options, more=more):
                        function = getattr(checks, name)
                        if "found" in inspect.signature(function).parameters:
                            options = {**options, "found": more}
                        function(browser, base_url, Path(site), item, **options)
                    results.put((name, item, verdict_of(check), more))
            finally:
                browser.close()
    except BaseException:
        # Its output would land in whichever test the session runs meanwhile: send it to
        # the tests that were waiting for this worker.
        results.put((WORKER_FAILED, os.getpid(), traceback.format_exc(), {}))
        raise


def verdict_of(check, *args) -> str | None:
    """None if ``check(*args)`` returns, else what it raised. Without pytest's assertion
    rewriting here, the failing line is the message a bare assert gives: keep the last
    frames."""
    try:
        check(*args)
        return None
    except Exception as error:
        return "".join(traceback.format_exception(error, limit=-2))


def run_checks(module: str, tasks: list[tuple], site: Path, workers: int = WORKERS,
               timeout: float = 1200) -> dict[tuple[str, object], str | None]:
    """Run each (check name, item, keyword arguments) of ``tasks`` in ``workers`` processes,
    in the order given (put the longest first); return {(name, item): None if it passed,
    else what it raised}. A check with a ``found`` parameter gets a dict to put more verdicts
    in, {(name, item): verdict}, of checks it made on the way (on a page it had open
    anyway); they join the result, even when the check itself fails later. After ``timeout``
    seconds the workers are stopped, and what they had not checked fails."""
    context = multiprocessing.get_context("spawn")   # no fork of a process running threads
    todo, done = context.Queue(), context.Queue()
    for task in tasks:
        todo.put(task)
    count = max(1, min(workers, len(tasks)))
    for _ in range(count):
        todo.put(None)
    processes = [context.Process(target=_worker, args=(module, str(site), todo, done),
                                 daemon=True) for _ in range(count)]
    for process in processes:
        process.start()
    verdicts: dict[tuple[str, object], str | None] = {}
    failures: list[str] = []

    def take(result) -> None:
        name, item, verdict, more = result
        if name == WORKER_FAILED:
            failures.append(f"worker {item}: {verdict}")
        else:
            verdicts[(name, item)] = verdict
            verdicts.update(more)

    deadline = time.monotonic() + timeout
    why = "the browser worker stopped before checking it"
    while not all((name, item) in verdicts for name, item, _ in tasks):
        if time.monotonic() > deadline:
            why = f"not checked within {timeout:.0f} s: the browser workers were stopped"
            for process in processes:
                process.kill()
            break
        try:
            take(done.get(timeout=1))
        except queue.Empty:
            if not any(process.is_alive() for process in processes):
                break
    for process in processes:
        process.join(timeout=30)
    with contextlib.suppress(queue.Empty):   # a dead worker's last word may come late
        while True:
            take(done.get(timeout=0.5))
    codes = [process.exitcode for process in processes]
    for name, item, _ in tasks:
        verdicts.setdefault((name, item), "\n".join([f"{why} (exit codes {codes})", *failures]))
    return verdicts


class Background:
    """``run_checks`` in a thread of this process; ``verdicts()`` waits for its answer."""

    def __init__(self, *args, **kwargs) -> None:
        self._answer: list = []
        self._thread = threading.Thread(target=self._run, args=args, kwargs=kwargs,
                                        daemon=True)
        self._thread.start()

    def _run(self, *args, **kwargs) -> None:
        try:
            self._answer.append(run_checks(*args, **kwargs))
        except BaseException as error:    # re-raised in the test that waits for it
            self._answer.append(error)

    def verdicts(self) -> dict[tuple[str, object], str | None]:
        self._thread.join()
        if isinstance(self._answer[0], BaseException):
            raise self._answer[0]
        return self._answer[0]
