"""A companion notebook for every chapter, made from the same snippet sections as the page.

The notebook holds the chapter's title, a link back to it, the section headings the code sits
under, and one code cell per executed fence, in the page's order: the very code the page runs,
read from ``snippets/``, never a second copy. It is written without outputs; mkdocs-jupyter
executes it during the build, and readers download it from the notebook page.

mkdocs-jupyter caches executed notebooks by their bytes only. So that an edit to an imported
project module re-executes the notebook, its metadata carries a digest of every project file
that its cells import (the same dependency walk as the snippet cache uses).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import nbformat

from snippets.sitebuild.execution import module_files
from snippets.sitebuild.fences import ExecFence

_HEADING = re.compile(r"^(#{1,6}) +(.+?) *$")


def _to_dollars(text: str) -> str:
    r"""Notebook Markdown writes math as $...$ where the site writes \( \) and \[ \]."""
    return (text.replace(r"\(", "$").replace(r"\)", "$")
            .replace(r"\[", "$$").replace(r"\]", "$$"))


def _headings_before(markdown: str) -> dict[int, tuple[int, str]]:
    """For every line number (1-based), the closest heading (level, text) above it."""
    current, result = (1, ""), {}
    for number, line in enumerate(markdown.splitlines(), start=1):
        match = _HEADING.match(line)
        if match:
            current = (len(match[1]), match[2])
        result[number] = current
    return result


def chapter_notebook(markdown: str, page: str, fences: list[ExecFence], root: Path):
    """The notebook of one chapter page. ``page`` is its path in docs/, like "sigmoid.md"."""
    title = next((m[2] for line in markdown.splitlines() if (m := _HEADING.match(line))
                  and len(m[1]) == 1), Path(page).stem)
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell(
        f"# {_to_dollars(title)}\n\n"
        f"The code of the chapter [{title}](../{page}), cell by cell, in the order the page "
        "runs it. It needs this project installed (`pip install -e .` in a clone of the "
        "repository), since the cells import its small NumPy library, `snippets.bp`."))
    headings = _headings_before(markdown)
    last_heading = None
    files: set[Path] = set()
    for fence in fences:
        heading = headings[fence.page_line]
        if heading != last_heading and heading[0] > 1:
            nb.cells.append(nbformat.v4.new_markdown_cell(
                f"{'#' * heading[0]} {_to_dollars(heading[1])}"))
            last_heading = heading
        nb.cells.append(nbformat.v4.new_code_cell(fence.section.code))
        files |= module_files(fence.section.code, root, importer=fence.section.path)
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i}"  # nbformat's default ids are random; a build must not be
    digest = hashlib.sha256()
    for cell in nb.cells:
        digest.update(cell.source.encode())
    for file in sorted(files):
        digest.update(file.relative_to(root).as_posix().encode() + file.read_bytes())
    nb.metadata.update({
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
        "backprop": {"chapter": page, "inputs_sha256": digest.hexdigest()},
    })
    return nb


def write_if_changed(nb, path: Path) -> bool:
    """Write ``nb`` to ``path`` unless the file already holds exactly these bytes (an
    unchanged file keeps its mtime, so nothing downstream sees a change)."""
    text = nbformat.writes(nb)
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True
