"""Page weight and load time of every page, on a first visit, in Debian's Chromium.

    python -m snippets.sitebuild.browse [--site site] [--screenshots DIR]

Serves a built site (``mkdocs build`` first) on 127.0.0.1, opens each page in a fresh browser
context (an empty cache, so every asset counts), and prints a Markdown table: requests, bytes
transferred (bodies and headers, uncompressed, as the local server sends them) and the time to
the load event with math typeset. With ``--screenshots``, also saves a full-page screenshot of
every page in both palettes, for review.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from snippets.sitebuild.browser import (
    CHROMIUM_ARGS,
    chromium_path,
    offline_context,
    page_paths,
    serve,
    watch_page,
)

TYPESET = ("() => document.querySelectorAll('.arithmatex:not([data-typeset])').length === 0")


def measure(browser, url: str) -> tuple[int, int, float, list[str]]:
    """(requests, bytes, seconds to load and typeset, requests blocked) on a cold visit."""
    context, watch = offline_context(browser, viewport={"width": 1280, "height": 900})
    page = watch_page(context.new_page(), watch)
    responses = []
    page.on("requestfinished", lambda request: responses.append(request))
    start = time.perf_counter()
    page.goto(url, wait_until="load")
    page.wait_for_function(TYPESET)
    seconds = time.perf_counter() - start
    total = 0
    for request in responses:
        sizes = request.sizes()
        total += sizes["responseBodySize"] + sizes["responseHeadersSize"]
    context.close()
    return len(responses), total, seconds, watch.blocked


def screenshots(browser, url: str, name: str, folder: Path) -> None:
    for scheme in ("light", "dark"):
        context, _ = offline_context(browser, scheme, viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.goto(url, wait_until="load")
        page.wait_for_function(TYPESET)
        page.screenshot(path=str(folder / f"{name}-{scheme}.png"), full_page=True)
        context.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=Path("site"), help="a built site")
    parser.add_argument("--screenshots", type=Path, help="save screenshots to this folder")
    args = parser.parse_args(argv)
    if not (args.site / "index.html").is_file():
        print(f"no built site in {args.site}: run mkdocs build first", file=sys.stderr)
        return 1
    if chromium_path() is None:
        print("Chromium not found (install Debian's chromium, or set BP_CHROMIUM)",
              file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    if args.screenshots:
        args.screenshots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright, serve(args.site) as base:
        browser = playwright.chromium.launch(executable_path=chromium_path(),
                                             args=CHROMIUM_ARGS)
        print("| page | requests | KiB transferred | load s |")
        print("| --- | ---: | ---: | ---: |")
        for path in page_paths(args.site):
            count, size, seconds, blocked = measure(browser, base + path)
            flag = f" ({len(blocked)} blocked!)" if blocked else ""
            print(f"| /{path} | {count} | {size / 1024:,.0f} | {seconds:.2f}{flag} |")
            if args.screenshots:
                name = path.strip("/").replace("/", "--") or "home"
                screenshots(browser, base + path, name, args.screenshots)
        browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
