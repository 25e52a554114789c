"""A real browser on the built site: serve it on 127.0.0.1, drive Debian's Chromium through
Playwright, and refuse (and record) every request that would leave the machine.

Used by tests/test_browser.py and by ``python -m snippets.sitebuild.browse``. Playwright's own
browser download does not work here, so the browser is the system's: ``chromium`` on the PATH,
or the path in ``BP_CHROMIUM``.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import io
import os
import re
import shutil
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

# Quiet and offline: no background traffic, no first-run work, nothing resolvable but loopback.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]


def chromium_path() -> str | None:
    """The system Chromium, or None."""
    path = os.environ.get("BP_CHROMIUM") or shutil.which("chromium") or shutil.which(
        "chromium-browser")
    return path if path and Path(path).exists() else None


def browser_missing() -> str | None:
    """Why no browser can be driven here (the browser tests, ``browse``), or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Python Playwright is needed to drive the browser"
    if chromium_path() is None:
        return "Chromium not found (install Debian's chromium, or set BP_CHROMIUM)"
    return None


def page_paths(site: Path) -> list[str]:
    """URL paths of every page of a built site ("", "sigmoid/", "notebooks/sigmoid/", ...).

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> for p in ["index.html", "a/index.html", "404.html", "assets/x.css"]:
    ...     (root / p).parent.mkdir(parents=True, exist_ok=True); _ = (root / p).write_text("")
    >>> page_paths(root)
    ['', 'a/']
    """
    return sorted("" if p.parent == site else p.parent.relative_to(site).as_posix() + "/"
                  for p in site.rglob("index.html"))


def base_path(site: Path) -> str:
    """The path the site is published under, from its sitemap ("/repo/" on GitHub Pages).

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> base_path(root)
    '/'
    >>> _ = (root / "sitemap.xml").write_text("<url><loc>https://u.github.io/repo/</loc></url>")
    >>> base_path(root)
    '/repo/'
    """
    return urlsplit(_published_url(_sitemap(site)) or "/").path


def _sitemap(site: Path) -> str:
    sitemap = site / "sitemap.xml"
    return sitemap.read_text() if sitemap.is_file() else ""


def _published_url(sitemap: str) -> str | None:
    """The first address of a sitemap (MkDocs lists the home page first)."""
    match = re.search(r"<loc>([^<]+)</loc>", sitemap)
    return match[1] if match else None


@contextlib.contextmanager
def serve(site: Path):
    """Serve ``site`` on 127.0.0.1 (a free port) in a thread, as GitHub Pages would: under
    the path of its ``site_url``, with its 404.html (status 404) for any other address, and
    its sitemap naming the pages where they are served (Material's instant navigation takes
    only links to the sitemap's pages, matched with their port). Yield the site's base URL."""
    sitemap = _sitemap(site)
    published = _published_url(sitemap)
    mount = urlsplit(published or "/").path
    server = _QuietServer(("127.0.0.1", 0),
                          functools.partial(_Handler, directory=str(site), mount=mount))
    url = f"http://127.0.0.1:{server.server_address[1]}{mount}"
    server.sitemap = (sitemap.replace(f"<loc>{published}", f"<loc>{url}").encode()
                      if published else None)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()


class _Handler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *args, mount: str, **kwargs) -> None:
        self.mount = mount
        super().__init__(*args, **kwargs)

    def send_head(self):
        sitemap = self.server.sitemap     # as served, see serve()
        if sitemap is None or urlsplit(self.path).path != self.mount + "sitemap.xml":
            return super().send_head()
        self.send_response(200)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(sitemap)))
        self.end_headers()
        return io.BytesIO(sitemap)

    def translate_path(self, path: str) -> str:
        path = urlsplit(path).path
        if not (path + "/").startswith(self.mount):
            return str(Path(self.directory) / "404.html" / "outside-the-site")  # a 404
        return super().translate_path("/" + path[len(self.mount):])

    def send_error(self, code: int, message: str | None = None, explain=None) -> None:
        page = Path(self.directory) / "404.html"
        if code != 404 or not page.is_file():
            return super().send_error(code, message, explain)
        body = page.read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


class _QuietServer(http.server.ThreadingHTTPServer):
    sitemap: bytes | None = None   # the site's sitemap as served, if it has one

    def handle_error(self, request, client_address) -> None:
        # A browser that closes a connection mid-response is not an error worth a traceback.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@dataclass
class Watch:
    """What a page did that it should not: requests off the machine, console errors."""

    blocked: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def offline_context(browser, color_scheme: str = "light", **options):
    """A new browser context in which any request to a host other than 127.0.0.1 is
    aborted and recorded; returns (context, watch). Pages opened in it should be passed to
    :func:`watch_page` to record console errors."""
    watch = Watch()
    context = browser.new_context(color_scheme=color_scheme, **options)

    def route(route):
        if urlsplit(route.request.url).hostname in ("127.0.0.1", None):
            route.continue_()
        else:
            watch.blocked.append(route.request.url)
            route.abort()

    context.route("**/*", route)
    return context, watch


def watch_page(page, watch: Watch):
    page.on("console", lambda m: watch.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: watch.errors.append(str(e)))
    return page


# Reading metrics: what a reader sees of a page, measured in the browser. Used by the browser
# tests (each has a limit) and printed by ``python -m snippets.sitebuild.browse``.

READING = r"""() => {
  const content = document.querySelector(".md-content");
  const visible = (e) => e.getClientRects().length > 0
    && getComputedStyle(e).visibility !== "hidden" && !e.closest("details:not([open])");
  const figures = [...content.querySelectorAll(".bp-figure img, figure img")].filter(visible)
    .map((img) => ({src: img.currentSrc || img.src, width: img.getBoundingClientRect().width}));
  const label = (e) => e.textContent.trim().slice(0, 60);
  const scrollers = [...content.querySelectorAll("pre")].filter(visible)
    .map((pre) => pre.querySelector(":scope > code") || pre);
  const wide = scrollers.filter((e) => e.scrollWidth > e.clientWidth + 1)
    .map((e) => ({text: label(e), over: e.scrollWidth - e.clientWidth,
                  cue: e.classList.contains("bp-scrolls")}));
  const math = [...content.querySelectorAll("div.arithmatex")].filter(visible)
    .filter((e) => e.scrollWidth > e.clientWidth + 1)
    .map((e) => ({text: label(e), over: e.scrollWidth - e.clientWidth,
                  scrolls: ["auto", "scroll"].includes(getComputedStyle(e).overflowX),
                  cue: e.classList.contains("bp-scrolls")}));
  // An equation's number must not sit on the equation (KaTeX places it at the right edge).
  const hits = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom
    && b.top < a.bottom;
  const tags = [...content.querySelectorAll(".katex-display :is(.tag, .katex-tag)")].filter(visible)
    .filter((tag) => [...tag.parentElement.querySelectorAll(":scope > :is(.base, .katex-base)")]
      .some((base) => hits(tag.getBoundingClientRect(), base.getBoundingClientRect())))
    .map((tag) => label(tag.closest(".katex-display")));
  const article = content.querySelector("article") || content;
  const height = article.getBoundingClientRect().height;
  let mono = 0;
  for (const pre of article.querySelectorAll("pre")) {
    if (visible(pre) && !pre.parentElement.closest("pre")) {
      mono += pre.getBoundingClientRect().height;
    }
  }
  const links = document.querySelectorAll(".md-nav__link, .md-header__topic");
  const texts = [document.title, ...[...links].map((e) => e.textContent)];
  return {figures, wide, math, tags, monoShare: mono / height, height,
          tex: texts.filter((t) => /\\\(|\\\)|\\[a-zA-Z]+/.test(t)).map((t) => t.trim())};
}"""


def svg_text_sizes(svg: str) -> list[float]:
    """The size in points of every piece of text in a Matplotlib SVG (text drawn as paths:
    a group ``scale(s -s)`` holds text of 100 s points; a glyph scaled again inside it, as a
    superscript is, is smaller by that factor).

    >>> svg_text_sizes('<svg xmlns="http://www.w3.org/2000/svg"><g transform="translate(1 2) '
    ...                'scale(0.12 -0.12)"><use transform="translate(3 4) scale(0.7)"/></g></svg>')
    [12.0, 8.4]
    """
    import xml.etree.ElementTree as ET

    sizes = []
    for group in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}g"):
        flip = re.search(r"scale\(([\d.]+) -([\d.]+)\)", group.get("transform", ""))
        if not flip:
            continue
        size = 100 * float(flip[1])
        sizes.append(round(size, 3))
        for use in group.iter("{http://www.w3.org/2000/svg}use"):
            inner = re.search(r"scale\(([\d.]+)\)", use.get("transform", ""))
            if inner:
                sizes.append(round(size * float(inner[1]), 3))
    return sizes


def svg_width_pt(svg: str) -> float:
    return float(re.search(r'<svg[^>]*\bwidth="([\d.]+)pt"', svg)[1])


def smallest_figure_text_px(figures: list[dict], read) -> float | None:
    """The smallest text, in CSS pixels, in the figures as shown: its size in the drawing
    times the scale at which the drawing is shown. ``read(src)`` gives an image's SVG."""
    smallest = None
    for figure in figures:
        svg = read(figure["src"])
        if svg is None:
            continue
        sizes = svg_text_sizes(svg)
        if not sizes:
            continue
        px = min(sizes) * figure["width"] / svg_width_pt(svg)
        smallest = px if smallest is None else min(smallest, px)
    return smallest


def svg_reader(site: Path, base_url: str):
    """``read(src)`` for images of ``site`` served at ``base_url``: data: URIs and files."""
    import base64

    def read(src: str) -> str | None:
        if src.startswith("data:image/svg+xml;base64,"):
            return base64.b64decode(src.split(",", 1)[1]).decode()
        if src.startswith(base_url) and src.endswith(".svg"):
            path = site / src[len(base_url):].split("?")[0]
            return path.read_text() if path.is_file() else None
        return None
    return read
