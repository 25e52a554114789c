"""What a reader gets from every page, in Debian's Chromium: weight, load time, and reading
metrics at a laptop's and a phone's width.

    python -m snippets.sitebuild.browse [--site site] [--pages sigmoid/ ...] [--screenshots DIR]

Serves a built site (``mkdocs build`` first) on 127.0.0.1, opens each page in a fresh browser
context (an empty cache, so every asset counts), and prints a Markdown table per page:

* requests, and the bytes of a first visit compressed (each response gzipped, as a web server
  would send it), and the time to the load event with math typeset, at 1280 px;
* the smallest text in any figure, in CSS pixels as shown, at 1280 and at 390 px;
* code and output blocks that scroll sideways at 1280 px, and display equations wider than
  the screen at 390 px (and whether each shows that it scrolls);
* the share of the chapter's height taken by monospace blocks as first shown, at 1280 px;
* TeX left in the title bar or the navigation.

With ``--screenshots``, a full-page screenshot of every page at both widths in both palettes.
"""

from __future__ import annotations

import argparse
import gzip
import sys
import time
from pathlib import Path

from snippets.sitebuild.browser import (
    CHROMIUM_ARGS,
    READING,
    browser_missing,
    chromium_path,
    offline_context,
    page_paths,
    serve,
    smallest_figure_text_px,
    svg_reader,
    watch_page,
)

TYPESET = "() => document.fonts.ready.then(() => true)"   # math arrives typeset
WIDTHS = {"laptop": 1280, "phone": 390}
EAGER = """async () => {
  await document.fonts.ready;
  const images = [...document.querySelectorAll("img[loading=lazy]")];
  images.forEach((image) => { image.loading = "eager"; });
  await Promise.all(images.map((image) => image.decode().catch(() => null)));
}"""


def open_page(browser, url: str, width: int, scheme: str = "light"):
    context, watch = offline_context(browser, scheme,
                                     viewport={"width": width, "height": 900})
    page = watch_page(context.new_page(), watch)
    return context, page, watch


def visit(browser, url: str) -> dict:
    """A cold visit at 1280 px: requests, compressed bytes, seconds to load and typeset."""
    context, page, watch = open_page(browser, url, WIDTHS["laptop"])
    bodies = []
    page.on("response", lambda response: bodies.append(response))
    start = time.perf_counter()
    page.goto(url, wait_until="load")
    page.evaluate(TYPESET)
    seconds = time.perf_counter() - start
    compressed = 0
    for response in bodies:
        try:
            compressed += len(gzip.compress(response.body(), 6))
        except Exception:  # a response without a body (a redirect, an aborted request)
            continue
    context.close()
    return {"requests": len(bodies), "kib": compressed / 1024, "seconds": seconds,
            "blocked": watch.blocked}


def reading(browser, url: str, width: int, read, scheme: str = "light") -> dict:
    """The reading metrics of one page at one width (see READING)."""
    context, page, _ = open_page(browser, url, width, scheme)
    page.goto(url, wait_until="load")
    page.evaluate(TYPESET)
    page.evaluate("document.fonts.ready")
    page.wait_for_timeout(100)  # reading.js marks wide blocks once fonts are in
    metrics = page.evaluate(READING)
    context.close()
    metrics["smallest_px"] = smallest_figure_text_px(metrics["figures"], read)
    return metrics


def screenshots(browser, url: str, name: str, folder: Path) -> None:
    for width in WIDTHS.values():
        for scheme in ("light", "dark"):
            context, page, _ = open_page(browser, url, width, scheme)
            page.goto(url, wait_until="load")
            page.evaluate(TYPESET)
            page.evaluate(EAGER)   # a full-page screenshot shows the figures below the fold
            page.screenshot(path=str(folder / f"{name}-{width}-{scheme}.png"), full_page=True)
            context.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=Path("site"), help="a built site")
    parser.add_argument("--pages", nargs="*", help="only these pages, as 'sigmoid/'")
    parser.add_argument("--screenshots", type=Path, help="save screenshots to this folder")
    args = parser.parse_args(argv)
    if not (args.site / "index.html").is_file():
        print(f"no built site in {args.site}: run mkdocs build first", file=sys.stderr)
        return 1
    if (missing := browser_missing()) is not None:
        print(missing, file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    if args.screenshots:
        args.screenshots.mkdir(parents=True, exist_ok=True)
    paths = [p for p in page_paths(args.site) if not args.pages or p in args.pages]
    with sync_playwright() as playwright, serve(args.site) as base:
        browser = playwright.chromium.launch(executable_path=chromium_path(),
                                             args=CHROMIUM_ARGS)
        read = svg_reader(args.site, base)
        print("| page | requests | KiB gzipped | load s | smallest figure text px "
              "(1280 / 390) | wide blocks at 1280 | wide math at 390 (no cue) | "
              "monospace share | TeX in titles |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for path in paths:
            cold = visit(browser, base + path)
            laptop = reading(browser, base + path, WIDTHS["laptop"], read)
            phone = reading(browser, base + path, WIDTHS["phone"], read)
            sizes = " / ".join("-" if m["smallest_px"] is None else f"{m['smallest_px']:.1f}"
                               for m in (laptop, phone))
            no_cue = sum(1 for m in phone["math"] if not m["cue"])
            flag = f" ({len(cold['blocked'])} blocked!)" if cold["blocked"] else ""
            print(f"| /{path} | {cold['requests']} | {cold['kib']:,.0f} | "
                  f"{cold['seconds']:.2f}{flag} | {sizes} | {len(laptop['wide'])} | "
                  f"{len(phone['math'])} ({no_cue}) | {laptop['monoShare']:.0%} | "
                  f"{len(set(laptop['tex']) | set(phone['tex']))} |")
            if args.screenshots:
                name = path.strip("/").replace("/", "--") or "home"
                screenshots(browser, base + path, name, args.screenshots)
        browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
