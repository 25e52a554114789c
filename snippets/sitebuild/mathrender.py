"""Math typeset when the site is built, by the KaTeX the site vendors, run in V8 (mini-racer).

A page arrives with its math already laid out: the reader's browser loads KaTeX's stylesheet
and the fonts the page uses, not the 75 KB script that would typeset it after every load (a
third of a first visit), and nothing moves once the page shows. A TeX error is a build
warning naming the page (fatal under ``--strict``), not red text for a reader to find.

Three kinds of math reach the HTML:

* ``pymdownx.arithmatex`` (generic mode) wraps the pages' math as
  ``<span class="arithmatex">\\(..\\)</span>`` and ``<div class="arithmatex">\\[..\\]</div>``;
* figure and table captions, written by snippets, hold ``\\(..\\)`` and ``\\[..\\]``;
* notebook pages (nbconvert's HTML of the Markdown cells) hold ``$..$`` and ``$$..$$``.

Rendered expressions are kept by their TeX, in memory and in one JSON file per KaTeX version.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
from pathlib import Path

_ARITHMATEX = re.compile(
    r'<(?P<tag>span|div) class="arithmatex">\s*\\(?P<open>[(\[])(?P<tex>.*?)\\[)\]]\s*</(?P=tag)>',
    re.S)
_CAPTION = re.compile(r"(<figcaption\b[^>]*>)(.*?)(</figcaption>)", re.S)
_CAPTION_MATH = re.compile(r"\\\((?P<inline>.+?)\\\)|\\\[(?P<display>.+?)\\\]", re.S)
_NOTEBOOK_MARKDOWN = re.compile(
    r'(<div class="[^"]*\bjp-RenderedMarkdown\b[^"]*"[^>]*>)(.*?)(</div>)', re.S)
_DOLLARS = re.compile(r"(?<![\\$])\$\$(?P<display>.+?)\$\$|(?<![\\$])\$(?P<inline>[^$\n]+?)\$",
                      re.S)


class TexError(ValueError):
    """KaTeX could not parse an expression."""


class MathRenderer:
    """Typeset TeX with one KaTeX script (``katex.min.js``)."""

    def __init__(self, katex_js: Path, cache_dir: Path | None = None) -> None:
        self.katex_js = katex_js
        source = katex_js.read_bytes()
        self.version = hashlib.sha256(source).hexdigest()[:16]
        self._context = None
        self.cache_path = cache_dir / f"katex-{self.version}.json" if cache_dir else None
        self.cache: dict[str, str] = {}
        self.used: set[str] = set()
        if self.cache_path and self.cache_path.is_file():
            try:
                stored = json.loads(self.cache_path.read_text(encoding="utf-8"))
                digest = hashlib.sha256(json.dumps(stored["html"], sort_keys=True)
                                        .encode()).hexdigest()
                if digest == stored["digest"]:        # a damaged file is ignored, not served
                    self.cache = stored["html"]
            except (ValueError, KeyError, TypeError):
                pass
        self.changed = False

    def tex(self, tex: str, display: bool) -> str:
        """The HTML of one expression; :class:`TexError` if KaTeX cannot parse it."""
        key = f"{'D' if display else 'I'}{tex}"
        self.used.add(key)
        if key not in self.cache:
            self.cache[key] = self._render(tex, display)
            self.changed = True
        return self.cache[key]

    def _render(self, tex: str, display: bool) -> str:
        if self._context is None:
            from py_mini_racer import MiniRacer

            self._context = MiniRacer()
            self._context.eval(self.katex_js.read_text(encoding="utf-8"))
            # KaTeX's errors carry a position and the offending TeX: pass the message on.
            self._context.eval("""
                function bpRender(tex, display) {
                  try {
                    return {html: katex.renderToString(tex, {displayMode: display,
                                                             throwOnError: true})};
                  } catch (e) { return {error: String(e.message || e)}; }
                }""")
        result = self._context.call("bpRender", tex, display)
        if "error" in result:
            raise TexError(result["error"])
        return result["html"]

    def page(self, text: str, *, notebook: bool = False) -> tuple[str, list[str]]:
        """``text`` (a page's HTML) with its math typeset, and the errors met (an expression
        KaTeX cannot parse stays as TeX, marked, and is reported)."""
        errors: list[str] = []

        def typeset(tex: str, display: bool) -> str | None:
            tex = html.unescape(tex).strip()
            try:
                return self.tex(tex, display)
            except TexError as error:
                errors.append(f"{error} in {'display' if display else 'inline'} math "
                              f"'{tex[:80]}'")
                return None

        def arithmatex(match: re.Match) -> str:
            display = match["open"] == "["
            typeset_html = typeset(match["tex"], display)
            if typeset_html is None:
                return match[0].replace('class="arithmatex"',
                                        'class="arithmatex bp-tex-error"', 1)
            return f'<{match["tag"]} class="arithmatex">{typeset_html}</{match["tag"]}>'

        def inside(math: re.Pattern):
            def each(match: re.Match) -> str:
                def one(m: re.Match) -> str:
                    display = m["display"] is not None
                    done = typeset(m["display"] if display else m["inline"], display)
                    return m[0] if done is None else done
                return match[1] + math.sub(one, match[2]) + match[3]
            return each

        text = _ARITHMATEX.sub(arithmatex, text)
        text = _CAPTION.sub(inside(_CAPTION_MATH), text)
        if notebook:
            text = _NOTEBOOK_MARKDOWN.sub(inside(_DOLLARS), text)
        return text, errors

    def save(self) -> None:
        """Keep what this build typeset (and only that) for the next build."""
        if self.cache_path is None:
            return
        kept = {key: value for key, value in self.cache.items() if key in self.used}
        if not self.changed and len(kept) == len(self.cache):
            return
        self.cache_path.parent.mkdir(parents=True, exist_ok=True)
        for old in self.cache_path.parent.glob("katex-*.json"):
            if old != self.cache_path:
                old.unlink()
        payload = {"digest": hashlib.sha256(json.dumps(kept, sort_keys=True).encode())
                   .hexdigest(), "html": kept}
        tmp = self.cache_path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(payload, sort_keys=True), encoding="utf-8")
        tmp.replace(self.cache_path)
