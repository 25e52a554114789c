"""A companion notebook for every chapter, made from the same snippet sections as the page and
from the same execution.

The notebook holds the chapter's title, a link back to it, the section headings the code sits
under, and one code cell per executed fence, in the page's order: the very code the page runs,
read from ``snippets/``, never a second copy. Its outputs are the page's outputs, from the one
run the build made (:mod:`snippets.sitebuild.execution`): printed text as stream output,
figures as display data. Nothing executes a notebook during the build.

Two variants are written from one run: the one a reader downloads, which opens with a cell that
installs the site's small library from the site itself (:mod:`snippets.sitebuild.library`) and
shows figures as Jupyter does, and the one mkdocs-jupyter renders as the notebook page, whose
figures are the page's own.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import nbformat

from snippets.sitebuild.execution import Result
from snippets.sitebuild.fences import ExecFence

_HEADING = re.compile(r"^(#{1,6}) +(.+?) *$")
Display = Callable[[dict], dict]


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


def install_cell(wheel_url: str) -> str:
    """The first code cell of a downloaded notebook: install the library it imports from the
    site, unless it is already importable (in a clone of the project)."""
    return (
        "# The code below imports the site's small NumPy library (snippets.bp) and its figure\n"
        "# helper (snippets.figures). In a clone of the project they are already there;\n"
        "# anywhere else (Jupyter, Colab) this cell installs them from the site, once.\n"
        "try:\n"
        "    import snippets.bp\n"
        "except ModuleNotFoundError:\n"
        f"    %pip install --quiet {wheel_url}\n"
    )


def chapter_notebook(markdown: str, page: str, fences: list[ExecFence],
                     results: Sequence[Result] | None = None, *,
                     display: Display | None = None, install: str | None = None):
    """The notebook of one chapter page. ``page`` is its path in docs/, like "sigmoid.md".

    ``results`` are the page's block results, one per fence (None: a notebook without
    outputs); ``display`` turns a display event into a cell's display data; ``install`` is the
    source of a first code cell (see :func:`install_cell`).
    """
    title = next((m[2] for line in markdown.splitlines() if (m := _HEADING.match(line))
                  and len(m[1]) == 1), Path(page).stem)
    nb = nbformat.v4.new_notebook()
    intro = (f"# {_to_dollars(title)}\n\n"
             f"The code of the chapter [{title}](../{page}), cell by cell, in the order the page "
             "runs it, with the outputs the site's build produced.")
    if install:
        intro += (" It runs in any Jupyter kernel with NumPy and Matplotlib: the first cell "
                  "installs the rest from the site.")
    nb.cells.append(nbformat.v4.new_markdown_cell(intro))
    if install:
        nb.cells.append(nbformat.v4.new_code_cell(install))
    headings = _headings_before(markdown)
    last_heading = None
    display = display or (lambda bundle: bundle)
    for i, fence in enumerate(fences):
        heading = headings[fence.page_line]
        if heading != last_heading and heading[0] > 1:
            nb.cells.append(nbformat.v4.new_markdown_cell(
                f"{'#' * heading[0]} {_to_dollars(heading[1])}"))
            last_heading = heading
        cell = nbformat.v4.new_code_cell(fence.section.code)
        if results is not None:
            cell.outputs = _outputs(results[i], display)
        nb.cells.append(cell)
    count = 0
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i}"  # nbformat's default ids are random; a build must not be
        if cell.cell_type == "code" and results is not None:
            count += 1
            cell.execution_count = count
    nb.metadata.update({
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
        "backprop": {"chapter": page},
    })
    return nb


def _outputs(result: Result, display: Display) -> list:
    if result.error is not None:
        return [nbformat.v4.new_output("error", ename="BlockError", evalue=result.error,
                                       traceback=[])]
    outputs = []
    for kind, data in result.events:
        if kind == "stream":
            outputs.append(nbformat.v4.new_output("stream", name="stdout", text=data))
        else:
            outputs.append(nbformat.v4.new_output("display_data", data=display(data)))
    return outputs


def write_if_changed(nb, path: Path) -> bool:
    """Write ``nb`` to ``path`` unless the file already holds exactly these bytes (an
    unchanged file keeps its mtime, so nothing downstream sees a change)."""
    text = nbformat.v4.writes_json(nb)  # without nbformat's validation: the tests validate
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    # Atomically: two builds of one checkout at once (the tests do) never read half a file.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return True
