"""Find the executed code fences of a page and the snippet section each one includes.

The site's rule: an executed fence (```` ```python exec="on" ````) holds exactly one line,
``--8<-- "path/to/file.py:section"``, so every line of code that runs at build time lives in
``snippets/`` and every failure can name its file and line. ``pymdownx.snippets`` does the actual
inclusion; this module only reads the same markers to know where each block came from.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

_FENCE_OPEN = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<lang>[\w+-]+)(?P<attrs>[^\n]*)$"
)
_EXEC_ATTR = re.compile(r"""(?:^|\s)exec=(?P<q>["']?)(?P<value>[^"'\s]*)(?P=q)""")
_SESSION_ATTR = re.compile(r"""(?:^|\s)session=(?P<q>["']?)(?P<value>[^"'\s]*)(?P=q)""")
_INCLUDE = re.compile(r"""^-{1,}8<-{1,}[ \t]+(?P<q>["'])(?P<target>.+?)(?P=q)$""")
_SECTION_MARK = re.compile(
    r"-{1,}8<-{1,}[ \t]+\[[ \t]*(?P<type>start|end)[ \t]*:[ \t]*(?P<name>[a-z][-_0-9a-z]*)[ \t]*\]",
    re.IGNORECASE,
)
_FALSE = {"", "no", "off", "false", "0"}  # markdown-exec's own reading of exec="..."


class FenceError(ValueError):
    """An executed fence that breaks the site's rules; the message names page, line and file."""


@dataclass(frozen=True)
class Section:
    """Lines ``first_line..last_line`` (1-based, inclusive) of ``path`` between two markers."""

    path: Path
    name: str
    first_line: int
    last_line: int
    code: str


@dataclass(frozen=True)
class ExecFence:
    """One executed fence: where it stands on the page and what it includes."""

    page: str  # the page's path relative to docs/, as MkDocs names it
    page_line: int
    session: str
    section: Section


def find_section(path: Path, name: str) -> Section:
    """Return section ``name`` of ``path`` exactly as ``pymdownx.snippets`` includes it.

    Nested markers are refused: pymdownx drops their lines, which would shift every line
    number after them, and a traceback must point at the right line of the file.
    """
    stat = path.stat()
    lines, marks = _marked_lines(path, stat.st_mtime_ns, stat.st_size)
    starts = [i for i, (kind, mark) in marks.items()
              if kind.lower() == "start" and mark == name]
    if not starts:
        found = sorted({mark for _, mark in marks.values()})
        raise FenceError(f"section '{name}' not found in {path} (its sections: {found})")
    start = starts[0]
    for end in range(start + 1, len(lines)):
        kind, mark = marks.get(end, ("", ""))
        if kind.lower() == "end" and mark == name:
            break
        if end in marks:
            raise FenceError(
                f"{path}:{end + 1}: a section marker inside section '{name}'; "
                "executed sections must not nest"
            )
    else:
        raise FenceError(f"{path}:{start + 1}: section '{name}' has no end marker")
    body = lines[start + 1 : end]
    return Section(path, name, start + 2, end, "\n".join(body))


@functools.lru_cache(maxsize=256)
def _marked_lines(path: Path, mtime_ns: int, size: int) -> tuple[list[str], dict]:
    """A file's lines and its section markers {line index: (type, name)}, read once per
    version of the file (a page includes many sections of one file, and a build scans each
    page twice)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    marks = {i: (m["type"], m["name"]) for i, line in enumerate(lines)
             if (m := _SECTION_MARK.search(line))}
    return lines, marks


def scan_page(markdown: str, page: str, base: Path) -> list[ExecFence]:
    """List the executed python fences of one page, in page order.

    ``base`` is the folder that ``--8<--`` paths are relative to (the project root).
    Raises :class:`FenceError` naming ``page:line`` when a fence holds anything but one
    include of a named section, or when the file or the section does not exist.
    """
    fences: list[ExecFence] = []
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        m = _FENCE_OPEN.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence = m["indent"], m["fence"]
        closing = re.compile(rf"^{re.escape(indent)}{fence[0]}{{{len(fence)},}}[ \t]*$")
        end = i + 1
        while end < len(lines) and not closing.match(lines[end]):
            end += 1
        exec_attr = _EXEC_ATTR.search(m["attrs"])
        if m["lang"] in {"python", "py"} and exec_attr and exec_attr["value"].lower() not in _FALSE:
            body = [line.strip() for line in lines[i + 1 : end] if line.strip()]
            session = _SESSION_ATTR.search(m["attrs"])
            fences.append(
                ExecFence(
                    page=page,
                    page_line=i + 1,
                    session=session["value"] if session else "",
                    section=_included_section(body, page, i + 1, base),
                )
            )
        i = end + 1
    _check_file_order(fences)
    _check_no_self_import(fences, base)
    return fences


def _check_no_self_import(fences: list[ExecFence], base: Path) -> None:
    """A block must not import a snippet file its page runs: importing it would run that
    file's sections again, inside the block (and its output would be that file's)."""
    from snippets.sitebuild.execution import module_files

    own = {fence.section.path.resolve() for fence in fences}
    for fence in fences:
        imported = {p.resolve() for p in module_files(fence.section.code, base,
                                                      importer=fence.section.path)}
        clash = sorted(own & imported)
        if clash:
            name = clash[0].relative_to(base.resolve()).as_posix()
            raise FenceError(
                f"{fence.page}:{fence.page_line}: section '{fence.section.name}' imports "
                f"{name}, whose sections this page runs: it would run them again; take the "
                "names from the session instead (import them outside the section, for tests)")


def _check_file_order(fences: list[ExecFence]) -> None:
    """Within a session, sections of one file must appear in the file's order, so that
    importing the file (what its test does) runs the code in the page's order."""
    last: dict[tuple[str, Path], ExecFence] = {}
    for fence in fences:
        key = (fence.session, fence.section.path)
        before = last.get(key)
        if fence.session and before and fence.section.first_line < before.section.first_line:
            raise FenceError(
                f"{fence.page}:{fence.page_line}: section '{fence.section.name}' comes before "
                f"section '{before.section.name}' in {fence.section.path.name} but after it "
                "on the page; keep a session's sections in file order"
            )
        last[key] = fence


def _included_section(body: list[str], page: str, line: int, base: Path) -> Section:
    where = f"{page}:{line}"
    include = _INCLUDE.match(body[0]) if len(body) == 1 else None
    if include is None:
        raise FenceError(
            f"{where}: an executed fence must hold exactly one line "
            '--8<-- "snippets/<chapter>/<file>.py:<section>"; code is never pasted into pages'
        )
    target = include["target"]
    file_part, sep, name = target.rpartition(":")
    if not sep or not re.fullmatch(r"[a-z][-_0-9a-z]*", name, re.IGNORECASE):
        raise FenceError(f'{where}: "{target}" names no section; write "{target}:<section>"')
    path = base / file_part
    if not path.is_file():
        raise FenceError(f"{where}: snippet file {file_part} does not exist")
    try:
        return find_section(path, name)
    except FenceError as error:
        raise FenceError(f"{where}: {str(error).replace(f'{base}/', '')}") from None
