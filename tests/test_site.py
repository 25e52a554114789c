"""The real site: strict, quiet, offline, reproducible, with figures that carry alt text."""

from __future__ import annotations

import hashlib
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar
from urllib.parse import unquote, urljoin, urlsplit

import pytest

from snippets.sitebuild.browser import base_path
from tests.conftest import build_site

pytestmark = pytest.mark.slow


class Refs(HTMLParser):
    """Every URL a page makes the browser load, with the tag that loads it."""

    LOADS: ClassVar = {"script": "src", "img": "src", "source": "src", "iframe": "src",
             "video": "src", "audio": "src", "embed": "src"}

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str]] = []
        self.images: list[dict[str, str]] = []

    def handle_starttag(self, tag, attrs):
        attrs = {k: v or "" for k, v in attrs}
        if tag in self.LOADS and attrs.get(self.LOADS[tag]):
            self.refs.append((tag, attrs[self.LOADS[tag]]))
        if tag == "link" and attrs.get("href") and attrs.get("rel") != "canonical":
            self.refs.append((f"link rel={attrs.get('rel')}", attrs["href"]))
        if tag == "img":
            self.images.append(attrs)


def parse(page: Path) -> Refs:
    refs = Refs()
    refs.feed(page.read_text(encoding="utf-8"))
    return refs


def is_offsite(url: str) -> bool:
    parts = urlsplit(url)
    return bool(parts.netloc) or parts.scheme not in ("", "data")


def test_the_build_log_is_quiet(cold_build):
    lines = [line for line in cold_build[1].splitlines() if line.strip()]
    noisy = [line for line in lines if not line.startswith("INFO")]
    assert not noisy, "\n".join(noisy)


def test_nothing_is_loaded_from_another_host(site):
    offenders = []
    for page in site.rglob("*.html"):
        offenders += [f"{page.relative_to(site)}: <{tag}> {url}"
                      for tag, url in parse(page).refs if is_offsite(url)]
    for sheet in site.rglob("*.css"):
        for url in re.findall(r"""(?:url\(|@import\s+)["']?([^"')\s]+)""", sheet.read_text()):
            if is_offsite(url):
                offenders.append(f"{sheet.relative_to(site)}: {url}")
    assert not offenders, "\n".join(offenders)


def test_every_local_script_stylesheet_font_and_image_exists(site):
    missing = []
    mount = base_path(site)  # where the site is published: "/backprop-first-principles/"
    for page in site.rglob("*.html"):
        base = mount + page.relative_to(site).as_posix()
        for tag, url in parse(page).refs:
            if url.startswith("data:") or is_offsite(url):
                continue
            path = unquote(urlsplit(urljoin(base, url)).path)
            if not path.startswith(mount):
                missing.append(f"{page.relative_to(site)}: <{tag}> {url} is outside {mount}")
                continue
            target = site / path.removeprefix(mount)
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                missing.append(f"{page.relative_to(site)}: <{tag}> {url}")
    for sheet in site.rglob("*.css"):
        for url in re.findall(r"""url\(["']?([^"')]+)""", sheet.read_text()):
            if not url.startswith("data:") and not is_offsite(url):
                if not (sheet.parent / urlsplit(url).path).is_file():
                    missing.append(f"{sheet.relative_to(site)}: {url}")
    assert not missing, "\n".join(missing)


def test_math_is_typeset_when_the_site_is_built(site):
    """KaTeX ran at build time on every page (throwOnError: a TeX error fails the build):
    pages carry KaTeX's HTML and MathML, link its stylesheet and fonts, load no KaTeX script
    and hold no TeX delimiters where math goes."""
    assert (site / "assets/vendor/katex/fonts/KaTeX_Main-Regular.woff2").is_file()
    assert not list((site / "assets/vendor/katex").rglob("*.js"))
    pages = sorted(site.rglob("*.html"))
    typeset = 0
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert "katex.min.js" not in html and "auto-render" not in html, page
        for _tag, inner in re.findall(r'<(span|div) class="arithmatex[^"]*">(.*?)</\1>', html,
                                     re.S):
            assert inner.startswith('<span class="katex'), f"{page}: {inner[:80]}"
            typeset += 1
        for caption in re.findall(r"<figcaption\b.*?</figcaption>", html, re.S):
            assert not re.search(r"\\[(\[]", re.sub(r"<annotation.*?</annotation>", "",
                                                     caption, flags=re.S)), f"{page}: {caption}"
        if "katex" in html:
            assert "assets/vendor/katex/katex.min.css" in html, page
    assert typeset > 1000
    sigmoid = (site / "sigmoid/index.html").read_text()
    assert sigmoid.count('class="katex"') > 10 and "<math" in sigmoid   # MathML for readers
    notebook = (site / "notebooks/skip-guarantees/index.html").read_text()
    markdown = re.findall(r'class="[^"]*jp-RenderedMarkdown[^"]*"[^>]*>(.*?)</div>', notebook,
                          re.S)
    assert any('class="katex"' in cell for cell in markdown)


def test_figures_are_svg_files_with_alt_text_and_a_caption(site):
    """Figures are SVG files named by their content, shared by a chapter and its notebook
    page (the browser caches them), never inlined."""
    used: dict[str, set[str]] = {}
    for page in site.rglob("*.html"):
        for image in parse(page).images:
            assert image.get("alt", "").strip(), f"{page}: image without alt text"
            assert not image["src"].startswith("data:"), f"{page}: an inlined image"
            if "assets/figures/" in image["src"]:
                target = (page.parent / image["src"]).resolve()
                used.setdefault(target.name, set()).add(str(page.parent.relative_to(site)))
    svgs = sorted((site / "assets/figures").glob("*.svg"))
    assert len(svgs) >= 10 and {p.name for p in svgs} == set(used)
    for path in svgs:
        svg = path.read_text()
        assert svg.lstrip().startswith("<?xml") and "<svg" in svg
        assert "<dc:date>" not in svg  # no build date inside the figure
        assert path.stem == hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    assert all(len(pages) == 2 for pages in used.values()), "chapter and notebook share"
    assert "<figcaption>" in (site / "sigmoid/index.html").read_text()


def test_two_builds_of_one_commit_are_byte_identical_under_load(cold_builds, tmp_path):
    """The shared cold build and its twin, built together while two other processes kept
    both cores busy (tests/conftest.py), and then a build from the first one's warm cache:
    the very same files."""
    assert "0 from cache" in cold_builds.log
    warm = build_site(tmp_path / "warm",
                      BP_EXEC_CACHE_DIR=str(cold_builds.cache / "exec"),
                      BP_NOTEBOOK_CACHE_DIR=str(cold_builds.cache / "notebooks"))
    assert "0 executed" in warm.stdout
    site = cold_builds.site
    files = sorted(p.relative_to(site) for p in site.rglob("*") if p.is_file())
    for other in (cold_builds.twin, tmp_path / "warm"):
        assert files == sorted(p.relative_to(other) for p in other.rglob("*") if p.is_file())
        differing = [f for f in files if (site / f).read_bytes() != (other / f).read_bytes()]
        assert not differing, f"{other.name} differs in {differing}"
