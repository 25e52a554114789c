"""The reader's experience, in a real browser: Debian's Chromium, headless, driven by
Playwright, on the built site served on 127.0.0.1, with every other host blocked.

Without Chromium these tests are skipped with a message, except under CI (CI=true), where a
missing browser is a failure: .ci/run installs it.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from snippets.sitebuild.browser import (
    CHROMIUM_ARGS,
    chromium_path,
    offline_context,
    page_paths,
    serve,
    watch_page,
)
from snippets.sitebuild.vendor import axe_script
from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def _chapter_slugs() -> list[str]:
    return sorted(p.stem for p in (ROOT / "docs").glob("*.md")
                  if 'exec="on"' in p.read_text() and p.name != "errata.md")


PAGES = sorted(["" if p.stem == "index" else f"{p.stem}/" for p in (ROOT / "docs").glob("*.md")]
               + [f"notebooks/{slug}/" for slug in _chapter_slugs()])


@pytest.fixture(scope="session")
def browser():
    path = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        path = None
    if path is None:
        message = ("Chromium (Debian's 'chromium' package, or BP_CHROMIUM) and Python Playwright "
                   "are needed for the browser tests")
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; under CI they must not be skipped")
        pytest.skip(f"{message}; skipped")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def base_url(site):
    with serve(site) as url:
        yield url


def open_page(browser, url: str, color_scheme: str = "light"):
    context, watch = offline_context(browser, color_scheme, viewport={"width": 1280,
                                                                      "height": 900})
    page = watch_page(context.new_page(), watch)
    page.goto(url, wait_until="load")
    page.wait_for_function("() => document.querySelectorAll("
                           "'.arithmatex:not([data-typeset])').length === 0", timeout=10_000)
    return context, page, watch


RAW_TEX = r"""() => {
    // Visible text outside code: no TeX delimiter may survive typesetting.
    const root = document.querySelector('.md-content').cloneNode(true);
    root.querySelectorAll('pre, code, .katex, script, style, .jp-InputArea, .jp-OutputArea')
        .forEach(e => e.remove());
    const text = root.innerText;
    return ['\\(', '\\)', '\\[', '\\]', '$$'].filter(d => text.includes(d))
        .concat(/\$[^$\s][^$]*\$/.test(text) ? ['$...$'] : []);
}"""


def test_every_page_of_the_site_is_tested(site):
    assert page_paths(site) == PAGES


@pytest.mark.parametrize("path", PAGES)
def test_page_in_both_palettes(browser, base_url, path):
    """Loads without console errors or requests off 127.0.0.1; math typeset; figures
    loaded, with alt text, inverted on the dark palette; no serious or critical axe-core
    violations."""
    for scheme in ("light", "dark"):
        context, page, watch = open_page(browser, base_url + path, scheme)
        try:
            assert page.evaluate("document.body.getAttribute('data-md-color-scheme')") == \
                {"light": "default", "dark": "slate"}[scheme]
            assert page.locator(".katex-error").count() == 0
            assert page.evaluate(RAW_TEX) == [], "TeX left untypeset"
            images = page.eval_on_selector_all(
                "img", "els => els.map(e => [e.naturalWidth, e.getAttribute('alt') || '', "
                       "getComputedStyle(e).filter, !!e.closest('.bp-figure')])")
            for width, alt, css_filter, is_figure in images:
                assert width > 0, "an image did not load"
                assert alt.strip(), "an image without alt text"
                if is_figure:  # white SVG figures are inverted, hues kept, on the dark palette
                    assert ("invert" in css_filter) == (scheme == "dark"), css_filter
            assert watch.errors == [], watch.errors
            assert watch.blocked == [], f"requests off 127.0.0.1: {watch.blocked}"
            page.add_script_tag(path=str(axe_script(ROOT / ".vendor")))
            violations = page.evaluate("async () => (await axe.run(document, "
                                       "{resultTypes: ['violations']})).violations")
            serious = [f"{v['id']} ({v['impact']}, {len(v['nodes'])} nodes): {v['help']}; "
                       f"e.g. {v['nodes'][0]['target']}"
                       for v in violations if v["impact"] in ("serious", "critical")]
            assert not serious, f"{scheme} palette:\n" + "\n".join(serious)
        finally:
            context.close()


def test_palette_toggle_switches_light_and_dark(browser, base_url):
    context, page, _ = open_page(browser, base_url)
    try:
        scheme = "document.body.getAttribute('data-md-color-scheme')"
        assert page.evaluate(scheme) == "default"
        page.locator("label[title='Switch to dark mode']").click()
        page.wait_for_function(f"() => {scheme} === 'slate'")
        page.locator("label[title='Switch to light mode']").click()
        page.wait_for_function(f"() => {scheme} === 'default'")
    finally:
        context.close()


def test_instant_navigation_keeps_math_typeset(browser, base_url):
    """From the home page to every chapter through Material's instant navigation, which
    swaps the content without a page load: the math of each chapter must be typeset."""
    context, page, watch = open_page(browser, base_url)
    try:
        for slug in _chapter_slugs():
            page.goto(base_url, wait_until="load")
            # Material's instant navigation rewrites links to absolute URLs
            page.locator(f".md-content a[href$='/{slug}/']").first.click()
            page.wait_for_function(f"() => location.pathname.endsWith('/{slug}/')")
            page.wait_for_function("() => document.querySelector('.md-content h1') && "
                                   "document.querySelectorAll('.arithmatex:not([data-typeset])')"
                                   ".length === 0", timeout=10_000)
            assert page.evaluate(RAW_TEX) == [], slug
            assert page.locator(".md-content .katex").count() > 0, slug
        assert watch.errors == [] and watch.blocked == []
    finally:
        context.close()


def test_search_finds_the_vanishing_gradients_chapter(browser, base_url):
    context, page, _ = open_page(browser, base_url)
    try:
        box = page.locator(".md-search__input")
        box.click()
        # Typed key by key, as a reader does: Material answers keyboard input, and the
        # index may still be loading in its worker when the first key arrives.
        box.press_sequentially("vanishing", delay=30)
        page.wait_for_selector(".md-search-result__item", timeout=10_000)
        pages = page.eval_on_selector_all(
            ".md-search-result__item > a", "els => els.map(e => new URL(e.href).pathname)")
        assert pages[0] == urlsplit(base_url).path + "products-of-jacobians/", pages
    finally:
        context.close()


def test_an_unknown_address_gets_the_404_page_in_the_sites_style(browser, base_url):
    """Served as GitHub Pages serves it: status 404, the site's 404.html, whose links and
    assets are absolute (under site_url's path) so that they work at any depth."""
    context, watch = offline_context(browser, viewport={"width": 1280, "height": 900})
    page = watch_page(context.new_page(), watch)
    try:
        response = page.goto(base_url + "no/such/chapter/", wait_until="load")
        assert response.status == 404
        assert page.locator("h1").inner_text() == "Page not found"
        # styled: Material's stylesheet applied to the header, the palette set
        assert page.evaluate("getComputedStyle(document.querySelector('.md-header'))"
                             ".position") == "sticky"
        assert page.evaluate("document.body.getAttribute('data-md-color-scheme')") == "default"
        # the browser reports the 404 of the page itself; nothing else may fail
        others = [e for e in watch.errors if "status of 404" not in e]
        assert others == [] and watch.blocked == []
        assert len(watch.errors) <= 1
        page.add_script_tag(path=str(axe_script(ROOT / ".vendor")))
        violations = page.evaluate("async () => (await axe.run()).violations")
        assert [v["id"] for v in violations if v["impact"] in ("serious", "critical")] == []
        page.locator(".bp-not-found a", has_text="The sigmoid").click()
        page.wait_for_function("() => location.pathname.endsWith('/sigmoid/')")
        page.wait_for_selector(".md-content .katex")
    finally:
        context.close()


def test_axe_is_the_installed_copy():
    assert Path(axe_script(ROOT / ".vendor")).stat().st_size > 100_000
