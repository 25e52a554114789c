"""Browser checks of many pages, run two at a time.

A page check spends its time inside Chromium (layout, axe-core's contrast rule), one renderer
process per page, while Python waits. One page at a time leaves a core idle; here each worker
process drives its own Chromium (Playwright's sync API allows one instance per thread or
process) and takes the next page from a shared queue, so the longest pages start first and
the two cores stay busy. A check is a function ``check(browser, base_url, site, item)`` in a
test module; it raises on failure, and the test for that item reports what it raised.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import queue
import traceback
from pathlib import Path

from snippets.sitebuild.browser import CHROMIUM_ARGS, chromium_path

WORKERS = int(os.environ.get("BP_BROWSER_WORKERS", "2"))


def _worker(module: str, site: str, base_url: str, tasks, results) -> None:
    from playwright.sync_api import sync_playwright

    checks = importlib.import_module(module)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(),
                                             args=CHROMIUM_ARGS)
        try:
            while (task := tasks.get()) is not None:
                name, item = task
                try:
                    getattr(checks, name)(browser, base_url, Path(site), item)
                    verdict = None
                except Exception as error:
                    # Without pytest's assertion rewriting here, the failing line is the
                    # message a bare assert gives: keep the last frames.
                    verdict = "".join(traceback.format_exception(error, limit=-2))
                results.put((name, item, verdict))
        finally:
            browser.close()


def run_checks(module: str, tasks: list[tuple[str, object]], site: Path, base_url: str,
               workers: int = WORKERS) -> dict[tuple[str, object], str | None]:
    """Run each (check name, item) of ``tasks`` in ``workers`` processes, in the order given
    (put the longest first); return {(name, item): None if it passed, else what it raised}."""
    context = multiprocessing.get_context("spawn")   # no fork of a process running threads
    todo, done = context.Queue(), context.Queue()
    for task in tasks:
        todo.put(task)
    count = max(1, min(workers, len(tasks)))
    for _ in range(count):
        todo.put(None)
    processes = [context.Process(target=_worker, args=(module, str(site), base_url, todo, done),
                                 daemon=True) for _ in range(count)]
    for process in processes:
        process.start()
    verdicts: dict[tuple[str, object], str | None] = {}
    while len(verdicts) < len(tasks):
        try:
            name, item, verdict = done.get(timeout=5)
            verdicts[(name, item)] = verdict
        except queue.Empty:
            if not any(process.is_alive() for process in processes):
                break
    for process in processes:
        process.join(timeout=30)
    codes = [process.exitcode for process in processes]
    for task in tasks:
        verdicts.setdefault(task, f"the browser worker stopped before checking it "
                                  f"(exit codes {codes})")
    return verdicts
