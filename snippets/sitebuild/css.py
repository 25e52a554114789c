"""Drop the CSS rules that no page can match.

nbconvert ships JupyterLab's stylesheet, about 600 KB, written for the whole editor (menus,
dialogs, drag images, widgets). A rendered notebook uses a small fraction of it. A rule is kept
when every class in one of its selectors occurs in the pages, or belongs to Material (``md-``),
whose scripts add classes at run time; rules without classes, and at-rules other than
``@media``/``@supports``, are kept whole.
"""

from __future__ import annotations

import functools
import re

_CLASS = re.compile(r"\.(-?[_a-zA-Z][\w-]*)")
_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_NOT = re.compile(r":not\([^()]*\)")  # :not(.x) matches more when .x is absent
_CLASS_ATTR = re.compile(r'class="([^"]*)"')
_BRACE = re.compile(r"[{}]")


def classes_in(html: str) -> set[str]:
    """Every class named in a class attribute.

    >>> sorted(classes_in('<div class="a b"><p class="c">'))
    ['a', 'b', 'c']
    """
    return {name for attr in _CLASS_ATTR.findall(html) for name in attr.split()}


def _blocks(css: str):
    """Top-level (prelude, body) pairs; a prelude with no body is a statement (@charset)."""
    i, n = 0, len(css)
    while i < n:
        brace, semi = css.find("{", i), css.find(";", i)
        if brace == -1 or (semi != -1 and semi < brace and css[i:semi].lstrip().startswith("@")):
            end = n if semi == -1 else semi + 1
            yield css[i:end], None
            i = end
            continue
        depth, j = 1, n + 1
        for match in _BRACE.finditer(css, brace + 1):
            depth += 1 if match[0] == "{" else -1
            if not depth:
                j = match.end()
                break
        yield css[i:brace], css[brace + 1:j - 1]
        i = j


def _split_selectors(prelude: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for k, ch in enumerate(prelude):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            parts.append(prelude[start:k])
            start = k + 1
    return [*parts, prelude[start:]]


@functools.lru_cache(maxsize=8)  # `mkdocs serve` purges the same stylesheet on every build
def purge(css: str, used: frozenset[str]) -> str:
    """``css`` without the rules whose every selector names a class not in ``used``.

    >>> purge(".a{x:1}.b,.a .c{y:2}@media print{.b{z:3}}@font-face{f:1}", frozenset("ac"))
    '.a{x:1}.a .c{y:2}@font-face{f:1}'

    Comments go first (a comment such as ``/* Name.Other */`` would read as classes), and
    classes inside ``:not()`` are not required:

    >>> purge("/* Literal.Number */ .a{x:1} .a:not(.gone){y:2}", frozenset("a"))
    '.a{x:1}.a:not(.gone){y:2}'
    """
    return _purge(_COMMENT.sub("", css), used)


def _purge(css: str, used: set[str]) -> str:
    out = []
    for prelude, body in _blocks(css):
        head = prelude.strip()
        if body is None:
            out.append(prelude.strip())
        elif head.startswith(("@media", "@supports")):
            inner = _purge(body, used)
            if inner:
                out.append(f"{head}{{{inner}}}")
        elif head.startswith("@"):
            out.append(f"{head}{{{body}}}")
        else:
            kept = [s.strip() for s in _split_selectors(head)
                    if all(c in used or c.startswith("md-")
                           for c in _CLASS.findall(_NOT.sub("", s)))]
            if kept:
                out.append(f"{','.join(kept)}{{{body}}}")
    return "".join(out)
