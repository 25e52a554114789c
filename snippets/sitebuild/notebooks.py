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

from snippets.sitebuild.execution import Result, _can_fork
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
        "# The code below imports the site's small NumPy library (snippets.bp)\n"
        "# and its figure helper (snippets.figures). In a clone of the project\n"
        "# they are already there; anywhere else (Jupyter, Colab) this cell\n"
        "# installs them from the site, once.\n"
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
    nb = nbformat.from_dict({"nbformat": nbformat.v4.nbformat,
                             "nbformat_minor": nbformat.v4.nbformat_minor,
                             "metadata": {}, "cells": []})
    intro = (f"# {_to_dollars(title)}\n\n"
             f"The code of the chapter [{title}](../{page}), cell by cell, in the order the page "
             "runs it, with the outputs the site's build produced.")
    if install:
        intro += (" It runs in any Jupyter kernel with NumPy and Matplotlib: the first cell "
                  "installs the rest from the site.")
    nb.cells.append(_markdown_cell(intro))
    if install:
        nb.cells.append(_code_cell(install))
    headings = _headings_before(markdown)
    last_heading = None
    display = display or (lambda bundle: bundle)
    for i, fence in enumerate(fences):
        heading = headings[fence.page_line]
        if heading != last_heading and heading[0] > 1:
            nb.cells.append(_markdown_cell(f"{'#' * heading[0]} {_to_dollars(heading[1])}"))
            last_heading = heading
        cell = _code_cell(fence.section.code)
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


# Cells and outputs as nbformat.v4's new_* functions make them, without their validation of
# each one (a third of the time a notebook took): the test suite validates every notebook.
def _code_cell(source: str):
    return nbformat.from_dict({"cell_type": "code", "metadata": {}, "execution_count": None,
                               "source": source, "outputs": []})


def _markdown_cell(source: str):
    return nbformat.from_dict({"cell_type": "markdown", "metadata": {}, "source": source})


def _outputs(result: Result, display: Display) -> list:
    if result.error is not None:
        return [nbformat.from_dict({"output_type": "error", "ename": "BlockError",
                                    "evalue": result.error, "traceback": []})]
    outputs = []
    for kind, data in result.events:
        if kind == "stream":
            outputs.append(nbformat.from_dict({"output_type": "stream", "name": "stdout",
                                               "text": data}))
        else:
            outputs.append(nbformat.from_dict({"output_type": "display_data",
                                               "data": display(data), "metadata": {}}))
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


# Rendering notebook pages ahead of mkdocs-jupyter. It renders each notebook page when the
# page is built, one after another, with a new nbconvert exporter (its templates compiled
# again) every time: about a second a notebook, a third of a cold build. Here every notebook
# its cache lacks is rendered ahead, spread over worker processes that each keep one
# exporter, into the cache entry mkdocs-jupyter then reads as its own; two of its steps are
# done more cheaply, to the same result (see toc_and_title and _exporter_class, and the test
# that compares them with mkdocs-jupyter's own).

def prerender(paths: Sequence[Path], jupyter_config: dict, workers: int = 1) -> int:
    """Write mkdocs-jupyter's cache entry for each notebook in ``paths`` that has none;
    return how many were rendered."""
    from mkdocs_jupyter.plugin import _compute_cache_key, _get_cache_path

    if not jupyter_config["cache"] or jupyter_config["execute"]:
        return 0          # a notebook executed by mkdocs-jupyter is none of our business
    todo = []
    for path in paths:
        entry = _get_cache_path(jupyter_config["cache_dir"],
                                _compute_cache_key(str(path), jupyter_config, False))
        if not entry.exists():
            todo.append((str(path), str(entry)))
    options = {key: jupyter_config[key] for key in _RENDER_OPTIONS}
    options["toc_depth"] = jupyter_config["toc_depth"]
    if workers < 2 or len(todo) < 2 or not _can_fork():
        for job in todo:
            _render_entry(job, options)
        return len(todo)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(min(workers, len(todo)), mp_context=context) as pool:
        # Longest first: a notebook's size is a fair guess of its rendering time.
        todo.sort(key=lambda job: -Path(job[0]).stat().st_size)
        list(pool.map(_render_entry, todo, [options] * len(todo)))
    return len(todo)


_RENDER_OPTIONS = ("kernel_name", "theme", "allow_errors", "show_input", "no_input",
                   "no_prompt", "remove_tag_config", "highlight_extra_classes",
                   "include_requirejs", "custom_mathjax_url")


def _render_entry(job: tuple[str, str], options: dict) -> None:
    """What mkdocs-jupyter's page renderer computes and stores on a cache miss."""
    import json

    from mkdocs_jupyter import convert

    path, entry = job
    options = dict(options)
    toc_depth = options.pop("toc_depth")
    with _OneExporter():
        body = convert.nb2html(path, execute=False, **options)
    toc_tokens, title = toc_and_title(path, toc_depth)
    Path(entry).parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(f"{entry}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"content": body, "toc_tokens": toc_tokens, "title": title}),
                   encoding="utf-8")
    tmp.replace(entry)


def toc_and_title(path: str, toc_depth: int) -> tuple[list[dict], str | None]:
    """What mkdocs-jupyter's ``_get_nb_toc_tokens`` returns for the notebook at ``path`` (the
    table of contents of its Markdown, and its first level-1 heading), without what costs as
    much as the rest of rendering: it exports the notebook to Markdown first, with a template
    that leaves out every code cell. Here the same text is read from the cells (Markdown
    cells, and raw cells meant as Markdown), then cleared of code as ``nb2md`` clears it."""
    from mkdocs_jupyter.nbconvert2 import _strip_if_no_heading
    from mkdocs_jupyter.plugin import _get_markdown_toc

    notebook = nbformat.read(path, as_version=4)
    body = "\n\n".join(
        cell.source for cell in notebook.cells
        if cell.cell_type == "markdown" or (cell.cell_type == "raw" and cell.metadata.get(
            "raw_mimetype", "") in ("", "text/markdown")))
    body = re.sub(r"```.*?```", "", body, flags=re.DOTALL)
    body = re.sub(r"`[^`\n]*`", "", body)
    body = re.sub(r"`[^`]*`", _strip_if_no_heading, body)
    tokens = _get_markdown_toc(body, toc_depth)
    return tokens, next((token["name"] for token in tokens if token["level"] == 1), None)


_EXPORTERS: dict[str, object] = {}


class _OneExporter:
    """Within the block, mkdocs-jupyter's exporter is made once per set of options and
    reused: making it compiles nbconvert's templates, half the cost of a small notebook.
    (The filters it is given are made afresh on every call, but from the same options.)"""

    def __enter__(self):
        from mkdocs_jupyter import nbconvert2

        self.module, self.original = nbconvert2, nbconvert2.HTMLExporter

        def exporter(**kwargs):
            key = repr(sorted((name, repr(value)) for name, value in kwargs.items()
                              if name not in {"filters", "preprocessors"}))
            if key not in _EXPORTERS:
                _EXPORTERS[key] = _exporter_class(self.original)(**kwargs)
            return _EXPORTERS[key]

        nbconvert2.HTMLExporter = exporter
        return self

    def __exit__(self, *exc):
        self.module.HTMLExporter = self.original


_FOCUSABLE = {"jp-Cell-inputWrapper", "jp-OutputArea-output"}
# A start tag, with quoted attribute values that may hold ">"
_TAG = re.compile(r"""<(div|img)\b((?:[^>"']|"[^"]*"|'[^']*')*?)(/?)>""", re.I)
_VALUE = r"""\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>/]+))"""
_CLASS = re.compile(r"(?:^|\s)class" + _VALUE, re.I)
_TABINDEX = re.compile(r"\s+tabindex" + _VALUE, re.I)
_ALT = re.compile(r"(?:^|\s)alt(?:\s*=|\s|$)", re.I)
_NO_ALT = "No description has been provided for this image"


def _focusable(html: str) -> str:
    """What nbconvert's HTML exporter does last, through BeautifulSoup, done on the tags
    themselves: every input and every output area can take the keyboard's focus
    (``tabindex="0"``), and an image without alt text gets nbconvert's placeholder.
    For the tags nbconvert's templates write (every cell inside the notebook's own
    ``jp-Notebook`` element; no markup inside scripts or comments that looks like a tag)."""
    def tag(match):
        name, attributes, slash = match[1].lower(), match[2], match[3]
        if name == "div":
            found = _CLASS.search(attributes)
            classes = next((v for v in found.groups() if v is not None), "") if found else ""
            if not set(classes.split()) & _FOCUSABLE:
                return match[0]
            attributes, replaced = _TABINDEX.subn(' tabindex="0"', attributes, count=1)
            if not replaced:
                attributes += ' tabindex="0"'
        elif not _ALT.search(attributes):
            attributes = f'{attributes.rstrip()} alt="{_NO_ALT}"'
        else:
            return match[0]
        return f"<{match[1]}{attributes}{slash}>"

    return _TAG.sub(tag, html)


def _exporter_class(base: type) -> type:
    """``base`` (nbconvert's HTMLExporter, as mkdocs-jupyter imports it) without the pass
    through BeautifulSoup that ends its ``from_notebook_node``: parsing and writing back the
    whole page is two thirds of rendering a notebook. Its changes are made by
    :func:`_focusable`; the rest of the method is nbconvert's (7.17), step for step."""
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    # Named as nbconvert's class: traitlets reads the configuration by class names, and a
    # class named "Exporter" would take nbconvert's base class's section last.
    class HTMLExporter(base):
        def from_notebook_node(self, nb, resources=None, **kw):
            info = nb.metadata.get("language_info", {})
            lexer = info.get("pygments_lexer", info.get("name", None))
            self.register_filter("highlight_code", self.filters.get(
                "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)))
            resources = self._init_resources(resources)
            self.register_filter("filter_data_type", WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources))
            html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            return _focusable(html), resources

    return HTMLExporter
