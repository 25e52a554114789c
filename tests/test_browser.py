"""The reader's experience, in a real browser: Debian's Chromium, headless, driven by
Playwright, on the built site served on 127.0.0.1, with every other host blocked.

Without Chromium these tests are skipped with a message, except under CI (CI=true), where a
missing browser is a failure: .ci/run installs it.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from snippets.sitebuild.browse import EAGER
from snippets.sitebuild.browser import (
    READING,
    browser_missing,
    offline_context,
    page_paths,
    smallest_figure_text_px,
    svg_reader,
    watch_page,
)
from snippets.sitebuild.vendor import axe_script
from tests.conftest import ROOT, WHEN_THE_SITE_IS_BUILT

pytestmark = pytest.mark.slow


def _chapter_slugs() -> list[str]:
    return sorted(p.stem for p in (ROOT / "docs").glob("*.md")
                  if 'exec="on"' in p.read_text() and p.name != "errata.md")


CHAPTERS = set(_chapter_slugs())
EXPLORER_PAGES = sorted(p.stem for p in (ROOT / "docs").glob("*.md")
                        if "explorer.py:" in p.read_text())
PAGES = sorted(["" if p.stem == "index" else f"{p.stem}/" for p in (ROOT / "docs").glob("*.md")]
               + [f"notebooks/{slug}/" for slug in _chapter_slugs()])


@pytest.fixture(scope="session")
def browser_present():
    message = browser_missing()
    if message is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; under CI they must not be skipped")
        pytest.skip(f"{message}; skipped")


def open_page(browser, url: str, color_scheme: str = "light", width: int = 1280,
              responses: list | None = None):
    """A new context, the page at ``url`` loaded in it; ``responses`` (a list) receives
    every response from the first request on."""
    context, watch = offline_context(browser, color_scheme, viewport={"width": width,
                                                                      "height": 900})
    page = watch_page(context.new_page(), watch)
    if responses is not None:
        page.on("response", lambda response: responses.append(response))
    page.goto(url, wait_until="load")
    page.evaluate("document.fonts.ready.then(() => true)")   # KaTeX's fonts, for widths
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


# What a reader must get from every chapter (issue "pages that read well on every screen").
SMALLEST_FIGURE_TEXT_PX = {1280: 11.0, 390: 9.0}
MONOSPACE_SHARE = 0.35
FIRST_VISIT_KIB = 250


# Rules whose result depends on the palette: the dark palette is checked for these only
# (the document is the same in both palettes; only its colours change). Colour contrast is also
# most of what axe costs on a page full of math.
PALETTE_RULES = ["color-contrast", "link-in-text-block"]


TWO_FRAMES = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"


def check_page_in_both_palettes(browser, base_url, site, path, also=(), found=None):
    """In the light palette, then switched to the dark one with the page's toggle: loads
    without console errors or requests off 127.0.0.1; math typeset; figures loaded, with alt
    text, drawn for the palette (never inverted by a filter); no serious or critical axe-core
    violations. At 1280 and 390 px (the same page, resized as a reader turns a window):
    figure text legible, nothing cut off, no TeX in titles; chapters mostly prose, figures
    and tables.

    ``also``: names of chapter checks to make on the same load in the light palette (a page
    load of a long chapter costs seconds): the size of a first visit before anything else
    touches the page, the interactive figures moved through their controls and the figures'
    numbers and full-size view after every other check; their verdicts go into ``found``,
    {(name, chapter): None if it passed, else what it raised}."""
    from tests.browser_pool import verdict_of

    read = svg_reader(site, base_url)
    slug = path.rstrip("/")
    chapter = slug in CHAPTERS
    verdicts = {} if found is None else found
    theirs = []   # spans of the watch's lists that a joined check answered for
    responses: list = []
    context, page, watch = open_page(browser, base_url + path, "light", width=1280,
                                     responses=responses)
    try:
        for scheme in ("light", "dark"):
            if scheme == "dark":
                # As a reader switches: the toggle, on the page as it is (a figure that
                # redraws for the palette must do so live); a first visit in the dark
                # palette has its own test.
                page.set_viewport_size({"width": 1280, "height": 900})
                for figure in page.locator("figure.bp-explorer").all():
                    bring_live(page, figure)
                    assert_drawn_in(figure, site / path, "light")
                page.locator("label[title='Switch to dark mode']").click()
                page.wait_for_function(
                    "document.body.getAttribute('data-md-color-scheme') === 'slate'")
                page.evaluate(TWO_FRAMES)
                for figure in page.locator("figure.bp-explorer.bp-interactive").all():
                    assert_drawn_in(figure, site / path, "dark")
            if scheme == "light" and "check_a_first_visit_is_light" in also:
                verdicts["check_a_first_visit_is_light", slug] = verdict_of(
                    a_first_visit_is_light, page, responses, slug)
            assert page.evaluate("document.body.getAttribute('data-md-color-scheme')") == \
                {"light": "default", "dark": "slate"}[scheme]
            assert page.locator(".katex-error, .bp-tex-error").count() == 0
            assert page.evaluate(RAW_TEX) == [], "TeX left untypeset"
            page.evaluate(EAGER)
            # (An interactive figure that has come into view hides its static drawing.)
            images = page.eval_on_selector_all(
                "img", "els => els.map(e => [e.naturalWidth, e.getAttribute('alt') || '', "
                       "getComputedStyle(e).filter, e.className, e.getClientRects().length,"
                       " e.getAttribute('src'), !!e.closest('.bp-explorer.bp-interactive')])")
            for natural, alt, css_filter, kind, shown, src, live in images:
                assert natural > 0, f"an image did not load: {src}"
                assert alt.strip(), "an image without alt text"
                assert css_filter == "none", f"a figure is changed by a filter: {css_filter}"
                if kind in ("bp-light", "bp-dark") and not live:  # the palette's drawing
                    assert bool(shown) == (kind == {"light": "bp-light",
                                                    "dark": "bp-dark"}[scheme]), src
            if scheme == "light":
                page.add_script_tag(path=str(axe_script(ROOT / ".vendor")))
            options = ("{resultTypes: ['violations']}" if scheme == "light" else
                       f"{{resultTypes: ['violations'], runOnly: {PALETTE_RULES}}}")
            violations = page.evaluate(f"async () => (await axe.run(document, {options}))"
                                       ".violations")
            serious = [f"{v['id']} ({v['impact']}, {len(v['nodes'])} nodes): "
                       f"{v['help']}; e.g. {v['nodes'][0]['target']}"
                       for v in violations if v["impact"] in ("serious", "critical")]
            assert not serious, f"{scheme} palette:\n" + "\n".join(serious)
            for width in (1280, 390):
                if width != 1280:
                    page.set_viewport_size({"width": width, "height": 900})
                    page.evaluate(EAGER)
                # reading.js marks wide blocks in its resize handler, which runs before the
                # next frame is drawn
                page.evaluate(TWO_FRAMES)
                metrics = page.evaluate(READING)
                where = f"{path} at {width} px, {scheme}"
                smallest = smallest_figure_text_px(metrics["figures"], read)
                if smallest is not None:
                    assert smallest >= SMALLEST_FIGURE_TEXT_PX[width], \
                        f"{where}: figure text as small as {smallest:.1f} px"
                assert metrics["tags"] == [], f"{where}: an equation number covers its equation"
                if width == 1280:
                    assert metrics["wide"] == [], f"{where}: blocks scroll sideways"
                else:
                    assert all(block["cue"] for block in metrics["wide"]), \
                        f"{where}: a block scrolls without a cue: {metrics['wide']}"
                clipped = [m for m in metrics["math"] if not (m["scrolls"] and m["cue"])]
                assert clipped == [], f"{where}: equations cut off: {clipped}"
                assert metrics["tex"] == [], f"{where}: TeX in the title or navigation"
                if chapter and width == 1280 and scheme == "light":
                    assert metrics["monoShare"] <= MONOSPACE_SHARE, \
                        f"{where}: monospace blocks take {metrics['monoShare']:.0%} of the page"
            if scheme == "light" and \
                    "check_interactive_figures_draw_the_computed_results" in also:
                page.set_viewport_size({"width": 1280, "height": 900})
                before = len(watch.errors), len(watch.blocked)
                verdicts["check_interactive_figures_draw_the_computed_results", slug] = \
                    verdict_of(interactive_figures_draw_the_computed_results, page, site, slug,
                               watch)
                theirs.append((before, (len(watch.errors), len(watch.blocked))))
            if scheme == "light" and \
                    "check_figures_are_numbered_referred_to_and_open_full_size" in also:
                # Last: it opens and closes the full-size view, which the checks above must
                # not meet half-closed.
                page.set_viewport_size({"width": 1280, "height": 900})
                verdicts["check_figures_are_numbered_referred_to_and_open_full_size", slug] = \
                    verdict_of(figures_are_numbered_referred_to_and_open_full_size, page, slug)
            errors, blocked = (  # less what a joined check answered for itself
                [e for i, e in enumerate(entries) if not any(a[n] <= i < b[n] for a, b in theirs)]
                for n, entries in enumerate((watch.errors, watch.blocked)))
            assert errors == [], errors
            assert blocked == [], f"requests off 127.0.0.1: {blocked}"
    finally:
        context.close()
        # a check this one failed before making is made on its own page load
        for name in also:
            if (name, slug) not in verdicts:
                verdicts[name, slug] = verdict_of(globals()[name], browser, base_url, site,
                                                  slug)


def check_figures_are_numbered_referred_to_and_open_full_size(browser, base_url, site, slug):
    context, page, _ = open_page(browser, f"{base_url}{slug}/")
    try:
        figures_are_numbered_referred_to_and_open_full_size(page, slug)
    finally:
        context.close()


def figures_are_numbered_referred_to_and_open_full_size(page, slug):
    figures = page.eval_on_selector_all(
        ".md-content figure.bp-figure",
        "els => els.map(e => [e.id, e.querySelector('figcaption').textContent])")
    for number, (anchor, caption) in enumerate(figures, start=1):
        assert anchor.startswith("fig-"), anchor
        assert caption.startswith(f"Figure {number}. "), caption
        references = page.locator(f".md-content a[href$='#{anchor}']:not(.bp-figure-number)")
        assert references.count() >= 1, f"{slug}: no text refers to {anchor}"
        said = references.first.inner_text()
        assert said == f"Figure {number}", f"{slug}: {anchor} is referred to as {said!r}"
    if figures:
        page.locator(".md-content a.bp-zoom").first.click()
        try:
            dialog = page.locator("dialog.bp-lightbox[open] img")
            dialog.wait_for()
            assert page.evaluate("document.querySelector('dialog.bp-lightbox img')"
                                 ".naturalWidth") > 0, f"{slug}: the full-size figure is empty"
            page.keyboard.press("Escape")
            page.wait_for_function("!document.querySelector('dialog.bp-lightbox')")
        finally:   # a full-size view left open would block the page for whatever comes next
            page.evaluate("document.querySelectorAll('dialog.bp-lightbox')"
                          ".forEach((d) => d.remove())")


def check_a_first_visit_is_light(browser, base_url, site, slug):
    responses: list = []
    context, page, _ = open_page(browser, f"{base_url}{slug}/", responses=responses)
    try:
        a_first_visit_is_light(page, responses, slug)
    finally:
        context.close()


def a_first_visit_is_light(page, responses, slug):
    """Every byte a first visit loads (``responses``, recorded from a new context before the
    page was opened), compressed as a web server sends it."""
    import gzip

    page.wait_for_timeout(500)
    total = 0
    for response in responses:
        try:
            total += len(gzip.compress(response.body(), 6))
        except Exception:   # no body (aborted, redirect)
            continue
    assert total / 1024 <= FIRST_VISIT_KIB, f"{slug}: {total / 1024:.0f} KiB"
    # The search index waits until the reader reaches for search; KaTeX ran at build time.
    loaded = [response.url for response in responses]
    assert not [url for url in loaded if "search_index" in url or (url.endswith(".js")
                and "katex" in url)], loaded


def bring_live(page, figure) -> None:
    """Scroll an interactive figure into view and wait until it has drawn itself."""
    figure.scroll_into_view_if_needed()
    page.wait_for_function("(f) => f.dataset.live === 'ready'", arg=figure.element_handle(),
                           timeout=60_000)


def assert_drawn_in(figure, folder, palette: str) -> None:
    """The live interactive figure draws its dots in its definition's colours for
    ``palette`` (its definition read from the built site; ``folder`` is the page's)."""
    definition = json.loads((folder / figure.get_attribute("data-explorer")).resolve()
                            .read_text())
    fills = figure.evaluate("(f) => [...new Set([...f.querySelectorAll("
                            "'.bp-live svg circle')].map(c => c.getAttribute('fill')))]")
    assert fills and set(fills) <= set(definition["colours"][palette]), (palette, fills)


def check_a_reader_who_prefers_dark_gets_the_dark_palette_from_the_first_paint(
        browser, base_url, site, path):
    """The palette checks switch a page to dark with its toggle; a reader whose system
    prefers dark gets it on arrival: the dark palette, the dark drawings, the interactive
    figure drawn in its dark colours, no error."""
    context, page, watch = open_page(browser, base_url + path, "dark")
    try:
        palette = page.evaluate("document.body.getAttribute('data-md-color-scheme')")
        assert palette == "slate", f"{path}: a reader who prefers dark gets {palette}"
        page.evaluate(EAGER)
        shown = page.eval_on_selector_all(
            "img.bp-light, img.bp-dark", "els => els.map(e => [e.className, "
            "e.getClientRects().length > 0, e.naturalWidth > 0])")
        assert all(visible == (kind == "bp-dark") for kind, visible, _ in shown), shown
        # every chapter has figures; the home page may not
        assert shown or not path, f"{path}: no figure drawn for either palette"
        assert all(loaded for kind, _, loaded in shown if kind == "bp-dark"), shown
        if path:
            figure = page.locator("figure.bp-explorer").first
            bring_live(page, figure)
            assert_drawn_in(figure, site / path, "dark")
        assert watch.errors == [] and watch.blocked == [], (watch.errors, watch.blocked)
    finally:
        context.close()


def check_palette_toggle_switches_light_and_dark(browser, base_url, site, _=None):
    context, page, _ = open_page(browser, base_url)
    try:
        scheme = "document.body.getAttribute('data-md-color-scheme')"
        assert page.evaluate(scheme) == "default", page.evaluate(scheme)
        page.locator("label[title='Switch to dark mode']").click()
        page.wait_for_function(f"() => {scheme} === 'slate'")
        page.locator("label[title='Switch to light mode']").click()
        page.wait_for_function(f"() => {scheme} === 'default'")
    finally:
        context.close()


def check_instant_navigation_keeps_math_typeset(browser, base_url, site, _=None):
    """From the home page to every chapter through Material's instant navigation, which
    swaps the content without a page load: the math of each chapter arrives typeset."""
    heading = "document.querySelector('.md-content h1')?.textContent"
    context, page, watch = open_page(browser, base_url)
    try:
        home = json.dumps(page.evaluate(heading))
        page.evaluate("window.bpLoadedOnce = true")   # a page load would forget it
        # Material takes links over once it has read the sitemap, fetched after the load
        page.wait_for_function("() => performance.getEntriesByType('resource').some("
                               "(e) => e.name.endsWith('/sitemap.xml') && e.responseEnd > 0)")
        page.evaluate(TWO_FRAMES)
        for slug in _chapter_slugs():
            if page.url != base_url:    # home again by the header's logo, also instantly
                page.locator("a.md-header__button.md-logo").click()
                page.wait_for_function(f"() => {heading} === {home}", timeout=30_000)
                assert page.evaluate("window.bpLoadedOnce") is True, "home: a page load"
            # Material's instant navigation rewrites links to absolute URLs
            page.locator(f".md-content a[href$='/{slug}/']").first.click()
            page.wait_for_function(f"() => location.pathname.endsWith('/{slug}/')")
            page.wait_for_function(f"() => ![undefined, {home}].includes({heading})",
                                   timeout=30_000)
            assert page.evaluate("window.bpLoadedOnce") is True, f"{slug}: a page load"
            assert page.evaluate(RAW_TEX) == [], slug
            assert page.locator(".md-content .katex").count() > 0, slug
        assert watch.errors == [] and watch.blocked == [], (watch.errors, watch.blocked)
    finally:
        context.close()


def search(page, query: str) -> list[tuple[str, str]]:
    """Type ``query`` into Material's search as a reader does; (path, text) of each result."""
    box = page.locator(".md-search__input")
    box.click()
    # Typed key by key, as a reader does: Material answers keyboard input, and the
    # index may still be loading in its worker when the first key arrives.
    box.press_sequentially(query, delay=30)
    page.wait_for_selector(".md-search-result__item", timeout=30_000)
    return page.eval_on_selector_all(
        ".md-search-result__item > a",
        "els => els.map(e => [new URL(e.href).pathname, e.innerText])")


def check_search_finds_the_vanishing_gradients_chapter(browser, base_url, site, _=None):
    context, page, _ = open_page(browser, base_url)
    try:
        pages = [path for path, _ in search(page, "vanishing")]
        assert pages[0] == urlsplit(base_url).path + "products-of-jacobians/", pages
    finally:
        context.close()


def check_search_finds_either_spelling(browser, base_url, site, query):
    context, page, _ = open_page(browser, base_url)
    try:
        results = search(page, query)
        chapter = urlsplit(base_url).path + "activations-and-initialisation/"
        assert chapter in [path for path, _ in results], results
        assert not any("initialization" in text.lower() for _, text in results
                       if query == "initialisation"), "the hidden spelling shows"
    finally:
        context.close()


def check_search_results_show_no_tex(browser, base_url, site, _=None):
    context, page, _ = open_page(browser, base_url)
    try:
        results = search(page, "gradient")
        assert results, "no result for 'gradient'"
        tex = [text for _, text in results if re.search(r"\\[()\[\]]|\\[a-z]+", text)]
        assert tex == [], tex
    finally:
        context.close()


def check_an_unknown_address_gets_the_404_page_in_the_sites_style(browser, base_url, site,
                                                                  _=None):
    """Served as GitHub Pages serves it: status 404, the site's 404.html, whose links and
    assets are absolute (under site_url's path) so that they work at any depth."""
    context, watch = offline_context(browser, viewport={"width": 1280, "height": 900})
    page = watch_page(context.new_page(), watch)
    try:
        response = page.goto(base_url + "no/such/chapter/", wait_until="load")
        assert response.status == 404, response.status
        heading = page.locator("h1").inner_text()
        assert heading == "Page not found", heading
        # styled: Material's stylesheet applied to the header, the palette set
        header = page.evaluate("getComputedStyle(document.querySelector('.md-header'))"
                               ".position")
        assert header == "sticky", f"the header is {header}: Material's stylesheet is missing"
        palette = page.evaluate("document.body.getAttribute('data-md-color-scheme')")
        assert palette == "default", palette
        # the browser reports the 404 of the page itself; nothing else may fail
        others = [e for e in watch.errors if "status of 404" not in e]
        assert others == [] and watch.blocked == [], (others, watch.blocked)
        assert len(watch.errors) <= 1, watch.errors
        page.add_script_tag(path=str(axe_script(ROOT / ".vendor")))
        violations = page.evaluate("async () => (await axe.run()).violations")
        serious = [v["id"] for v in violations if v["impact"] in ("serious", "critical")]
        assert serious == [], serious
        page.locator(".bp-not-found a", has_text="The sigmoid").click()
        page.wait_for_function("() => location.pathname.endsWith('/sigmoid/')")
        page.wait_for_selector(".md-content .katex")
    finally:
        context.close()


def test_axe_is_the_installed_copy():
    assert Path(axe_script(ROOT / ".vendor")).stat().st_size > 100_000


# Interactive figures -------------------------------------------------------------------

def _number(text: str) -> float:
    return float(text.replace("\N{MINUS SIGN}", "-"))


def _drawn(page, figure) -> dict:
    """Every dot drawn, as (series, x, y) read from its title, and its position on the
    page against the position the chart's own scales give that value."""
    return page.evaluate("""(figure) => {
      const chart = figure.bpChart, sx = chart.scale("x"), sy = chart.scale("y");
      const dots = [...figure.querySelectorAll(".bp-live svg circle")];
      return {state: figure.querySelector(".bp-live").dataset.state,
              dots: dots.map((c) => [c.querySelector("title").textContent,
                                     +c.getAttribute("cx"), +c.getAttribute("cy")]),
              scales: [sx.domain, sx.range, sy.domain, sy.range, sx.type, sy.type]};
    }""", figure)


def check_interactive_figures_draw_the_computed_results(browser, base_url, site, slug):
    """Each control at three positions (the others at their defaults): the state drawn is
    the one chosen, and every value drawn (a dot's label and its position on the axes) is
    the value the build's NumPy results hold for that state. Controls work by keyboard and
    say their value; nothing is fetched from another host."""
    context, page, watch = open_page(browser, f"{base_url}{slug}/")
    try:
        interactive_figures_draw_the_computed_results(page, site, slug, watch)
        assert watch.errors == [] and watch.blocked == [], (watch.errors, watch.blocked)
    finally:
        context.close()


def interactive_figures_draw_the_computed_results(page, site, slug, watch):
    """``watch``: the page's; the check answers for errors and requests made while it runs."""
    import json

    errors, blocked = len(watch.errors), len(watch.blocked)
    figures = page.locator("figure.bp-explorer")
    assert figures.count() >= 1, f"{slug}: no interactive figure"
    for n in range(figures.count()):
        figure = figures.nth(n)
        bring_live(page, figure)
        source = figure.get_attribute("data-explorer")
        definition = json.loads((site / slug / source).resolve().read_text())
        default = definition["default"].split("|")
        for i, control in enumerate(definition["controls"]):
            values = [str(v) for v in control["values"]]
            picks = sorted({0, len(values) // 2, len(values) - 1})
            widget = figure.locator(f"#{figure.get_attribute('id')}-{control['name']}")
            for pick in picks:
                if widget.evaluate("e => e.tagName") == "INPUT":
                    widget.focus()          # by keyboard, as a reader without a mouse
                    widget.press("Home")
                    for _ in range(pick):
                        widget.press("ArrowRight")
                    shown = widget.get_attribute("aria-valuetext")
                    assert shown == control.get("format", "{}").replace(
                        "{}", values[pick]), shown
                else:
                    widget.select_option(values[pick])
                state = [*default]
                state[i] = values[pick]
                drawn = _drawn(page, figure.element_handle())
                assert drawn["state"] == "|".join(state), (drawn["state"], state)
                check_drawn(drawn, definition, "|".join(state))
            # back to the default for the next control
            if widget.evaluate("e => e.tagName") == "INPUT":
                widget.focus()
                widget.press("Home")
                for _ in range(values.index(default[i])):
                    widget.press("ArrowRight")
            else:
                widget.select_option(default[i])
    assert watch.errors[errors:] == [] and watch.blocked[blocked:] == [], \
        (watch.errors[errors:], watch.blocked[blocked:])


def check_drawn(drawn: dict, definition: dict, key: str) -> None:
    import math

    expected = {}
    for series in definition["states"][key]:
        for x, y in zip(series["x"], series["y"], strict=True):
            if y is not None:
                expected[(series["name"], x)] = y
    assert len(drawn["dots"]) == len(expected), (len(drawn["dots"]), len(expected))
    x_domain, x_range, y_domain, y_range, x_type, y_type = drawn["scales"]

    def scale(value, domain, out, kind):
        f = math.log10 if kind == "log" else (lambda v: v)
        t = (f(value) - f(domain[0])) / (f(domain[1]) - f(domain[0]))
        return out[0] + t * (out[1] - out[0])

    for title, cx, cy in drawn["dots"]:
        name, _, rest = title.partition(": ")       # "series: x label = 3; y label = 0.5"
        x_text, y_text = rest.rsplit("; ", 1)
        x = _number(x_text.rsplit(" = ", 1)[1])
        y = _number(y_text.rsplit(" = ", 1)[1])
        match = [(k, v) for k, v in expected.items() if k[0] == name
                 and math.isclose(k[1], x, rel_tol=1e-3, abs_tol=1e-9)]
        assert len(match) == 1, f"{title}: not one point of the data"
        value = match[0][1]
        assert math.isclose(y, value, rel_tol=1e-3, abs_tol=1e-12), (title, value)
        clipped = min(max(value, min(y_domain)), max(y_domain))
        assert abs(cy - scale(clipped, y_domain, y_range, y_type)) < 0.6, (title, cy)
        assert abs(cx - scale(match[0][0][1], x_domain, x_range, x_type)) < 0.6, (title, cx)


# The page checks above run two pages at a time in the background (tests/browser_pool.py),
# from the moment the site is built; each test below reports its own page's verdict. Only the
# pages of the tests selected are checked.

POOLED = {  # test -> (check, its parameter), longest first
    "test_instant_navigation_keeps_math_typeset": ("check_instant_navigation_keeps_math_typeset",
                                                   None),
    "test_page_in_both_palettes": ("check_page_in_both_palettes", "path"),
    "test_interactive_figures_draw_the_computed_results": (
        "check_interactive_figures_draw_the_computed_results", "slug"),
    "test_figures_are_numbered_referred_to_and_open_full_size": (
        "check_figures_are_numbered_referred_to_and_open_full_size", "slug"),
    "test_a_first_visit_is_light": ("check_a_first_visit_is_light", "slug"),
    "test_a_reader_who_prefers_dark_gets_the_dark_palette_from_the_first_paint": (
        "check_a_reader_who_prefers_dark_gets_the_dark_palette_from_the_first_paint", "path"),
    "test_an_unknown_address_gets_the_404_page_in_the_sites_style": (
        "check_an_unknown_address_gets_the_404_page_in_the_sites_style", None),
    "test_search_finds_either_spelling": ("check_search_finds_either_spelling", "query"),
    "test_search_finds_the_vanishing_gradients_chapter": (
        "check_search_finds_the_vanishing_gradients_chapter", None),
    "test_search_results_show_no_tex": ("check_search_results_show_no_tex", None),
    "test_palette_toggle_switches_light_and_dark": (
        "check_palette_toggle_switches_light_and_dark", None),
}


# Chapter checks that need nothing but the first load of the page in the light palette: when
# the page's palette check is selected too, they are made on its load (see its ``also``).
SAME_LOAD = ("check_a_first_visit_is_light", "check_interactive_figures_draw_the_computed_results",
             "check_figures_are_numbered_referred_to_and_open_full_size")


def pooled_tasks(items) -> list[tuple]:
    """The pool's tasks for the tests of ``items`` (a session's, as selected)."""
    tasks = []
    for name, (check, param) in POOLED.items():
        tasks += [(check, item.callspec.params[param] if param else None)
                  for item in items
                  if getattr(item, "originalname", None) == name]   # doctests have none
    palettes = {item for check, item in tasks if check == "check_page_in_both_palettes"}
    joined = {}
    for check, item in tasks:
        if check in SAME_LOAD and f"{item}/" in palettes:
            joined.setdefault(f"{item}/", []).append(check)
    return [(check, item, {"also": tuple(joined[item])} if item in joined and
             check == "check_page_in_both_palettes" else {})
            for check, item in tasks if not (check in SAME_LOAD and f"{item}/" in joined)]


_started = {}


def start_the_pool(session, site: Path) -> None:
    """As soon as the shared site is built (tests/conftest.py), if the browser is there: the
    pool checks the pages in the background while the session runs the other tests (the
    tests that report its verdicts are ordered last)."""
    from tests.browser_pool import Background

    tasks = pooled_tasks(session.items)
    if tasks and browser_missing() is None:
        _started[site] = Background(__name__, tasks, site)


WHEN_THE_SITE_IS_BUILT.append(start_the_pool)


@pytest.fixture(scope="session")
def pooled(request, browser_present, site):
    from tests.browser_pool import Background

    pool = _started.pop(site, None) or Background(__name__, pooled_tasks(request.session.items),
                                                  site)
    return pool.verdicts()


def _verdict(pooled, check: str, item=None) -> None:
    if (check, item) not in pooled:   # to be made on its page's palette check
        pytest.fail(f"not checked: the palette check of {item}/ did not report it (its "
                    "browser worker stopped: see that test)", pytrace=False)
    verdict = pooled[(check, item)]
    if verdict is not None:
        pytest.fail(verdict, pytrace=False)


@pytest.mark.parametrize("path", PAGES)
def test_page_in_both_palettes(pooled, path):
    _verdict(pooled, "check_page_in_both_palettes", path)


@pytest.mark.parametrize("slug", sorted(CHAPTERS))
def test_figures_are_numbered_referred_to_and_open_full_size(pooled, slug):
    _verdict(pooled, "check_figures_are_numbered_referred_to_and_open_full_size", slug)


@pytest.mark.parametrize("slug", sorted(CHAPTERS))
def test_a_first_visit_is_light(pooled, slug):
    _verdict(pooled, "check_a_first_visit_is_light", slug)


def test_instant_navigation_keeps_math_typeset(pooled):
    _verdict(pooled, "check_instant_navigation_keeps_math_typeset")


@pytest.mark.parametrize("slug", EXPLORER_PAGES)
def test_interactive_figures_draw_the_computed_results(pooled, slug):
    _verdict(pooled, "check_interactive_figures_draw_the_computed_results", slug)


@pytest.mark.parametrize("path", ["", *(f"{slug}/" for slug in EXPLORER_PAGES)])
def test_a_reader_who_prefers_dark_gets_the_dark_palette_from_the_first_paint(pooled, path):
    _verdict(pooled, "check_a_reader_who_prefers_dark_gets_the_dark_palette_from_the_first_paint",
             path)


def test_palette_toggle_switches_light_and_dark(pooled):
    _verdict(pooled, "check_palette_toggle_switches_light_and_dark")


def test_search_finds_the_vanishing_gradients_chapter(pooled):
    _verdict(pooled, "check_search_finds_the_vanishing_gradients_chapter")


@pytest.mark.parametrize("query", ["initialization", "initialisation"])
def test_search_finds_either_spelling(pooled, query):
    _verdict(pooled, "check_search_finds_either_spelling", query)


def test_search_results_show_no_tex(pooled):
    _verdict(pooled, "check_search_results_show_no_tex")


def test_an_unknown_address_gets_the_404_page_in_the_sites_style(pooled):
    _verdict(pooled, "check_an_unknown_address_gets_the_404_page_in_the_sites_style")


# The pool itself --------------------------------------------------------------------------

def check_sleeps(browser, base_url, site, seconds):
    import time

    time.sleep(seconds)


def test_a_worker_that_fails_says_why_in_the_tests_it_leaves_unchecked(tmp_path):
    from tests.browser_pool import run_checks

    verdicts = run_checks("tests.no_such_module", [("check_x", 1, {}), ("check_x", 2, {})],
                          tmp_path, workers=1)
    assert set(verdicts) == {("check_x", 1), ("check_x", 2)}
    for verdict in verdicts.values():
        assert verdict.startswith("the browser worker stopped before checking it"), verdict
        assert "ModuleNotFoundError: No module named 'tests.no_such_module'" in verdict, verdict


def test_checks_that_never_finish_are_stopped_and_fail(browser_present, tmp_path):
    from tests.browser_pool import run_checks

    verdicts = run_checks(__name__, [("check_sleeps", 600, {})], tmp_path, workers=1,
                          timeout=3)
    assert verdicts[("check_sleeps", 600)].startswith(
        "not checked within 3 s: the browser workers were stopped"), verdicts
