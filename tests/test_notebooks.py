"""Companion notebooks: made from the same sections as their chapter and from the same run,
opened with the page's outputs, and runnable on their own: each downloaded notebook runs top to
bottom in a fresh kernel that cannot import this project, installing the library from the
built site (served on 127.0.0.1, everything else refused), and prints and draws exactly what
the build recorded."""

from __future__ import annotations

import asyncio
import html
import json
import os
import re
import sys
import venv
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from snippets.sitebuild.browser import serve
from snippets.sitebuild.execution import Result
from snippets.sitebuild.fences import scan_page
from snippets.sitebuild.notebooks import (
    _RENDER_OPTIONS,
    _focusable,
    _OneExporter,
    chapter_notebook,
    install_cell,
    toc_and_title,
)
from tests.conftest import NETGUARD, ROOT, FixtureSite

CHAPTERS = sorted(p.stem for p in (ROOT / "docs").glob("*.md")
                  if 'exec="on"' in p.read_text() and p.name != "errata.md")


def test_a_notebook_holds_the_pages_sections_in_order_with_their_outputs():
    markdown = (ROOT / "docs" / "sigmoid.md").read_text()
    fences = scan_page(markdown, "sigmoid.md", ROOT)
    results = [Result([["stream", f"out {i}\n"]]) for i in range(len(fences))]
    results[-1] = Result([["stream", "a\n"], ["display", {"text/plain": "fig"}]])
    nb = chapter_notebook(markdown, "sigmoid.md", fences, results,
                          install=install_cell("http://site/lib.whl"))
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert "%pip install --quiet http://site/lib.whl" in code[0].source
    assert [cell.source for cell in code[1:]] == [fence.section.code for fence in fences]
    assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1))
    assert code[1].outputs == [nbformat.v4.new_output("stream", name="stdout", text="out 0\n")]
    assert [o.output_type for o in code[-1].outputs] == ["stream", "display_data"]
    markdown_cells = [cell.source for cell in nb.cells if cell.cell_type == "markdown"]
    assert markdown_cells[0].startswith("# The sigmoid, worked end to end")
    assert "](../sigmoid.md)" in markdown_cells[0]
    assert "## The mirror identity" in markdown_cells
    assert [cell.id for cell in nb.cells] == [f"cell-{i}" for i in range(len(nb.cells))]
    nbformat.validate(nb)
    again = chapter_notebook(markdown, "sigmoid.md", fences, results,
                             install=install_cell("http://site/lib.whl"))
    assert nbformat.writes(nb) == nbformat.writes(again)


def test_inputs_and_outputs_are_made_focusable_as_nbconvert_does():
    from bs4 import BeautifulSoup

    page = ('<div class="jp-Notebook"><div class="jp-Cell jp-Cell-inputWrapper" id="a">'
            '<div tabindex="-1" class="jp-OutputArea-output jp-RenderedText">x</div>'
            '<div class="jp-OutputArea-outputs">y</div><img src="f.svg">'
            '<img alt="a figure" src="g.svg"><img src="h.svg"/>'
            # quoted values holding ">" or "class=", other quotes, capitals, bare attributes
            '<div title="a > b" class="jp-OutputArea-output">z</div>'
            '<div data-class="jp-OutputArea-output" class="other">w</div>'
            "<DIV CLASS='jp-Cell-inputWrapper' TabIndex='2'>v</DIV>"
            '<img alt src="i.svg"><img title="1>0" src="j.svg"></div></div>')
    soup = BeautifulSoup(page, features="html.parser")
    for element in soup.select("img:not([alt])"):
        element.attrs["alt"] = "No description has been provided for this image"
    for selector in ("div.jp-Cell-inputWrapper", "div.jp-OutputArea-output"):
        for element in soup.select(f".jp-Notebook {selector}"):
            element.attrs["tabindex"] = "0"
    ours = _focusable(page)
    assert ours.count('tabindex="0"') == 4 and 'tabindex="-1"' not in ours
    assert str(BeautifulSoup(ours, features="html.parser")) == str(soup)


def test_the_faster_exporter_reads_nbconvert_configuration_as_nbconvert_does():
    """traitlets finds a class's configuration by the names of the classes it derives
    from, the last found winning: the subclass adds no section of its own to them."""
    from nbconvert.exporters.html import HTMLExporter

    from snippets.sitebuild.notebooks import _exporter_class

    ours = _exporter_class(HTMLExporter).section_names()
    assert list(dict.fromkeys(ours)) == HTMLExporter.section_names()
    assert ours[-1] == HTMLExporter.section_names()[-1]


@pytest.mark.slow
def test_notebook_pages_are_rendered_as_mkdocs_jupyter_would(cold_builds):
    """The build renders notebook pages faster than mkdocs-jupyter would, two ways: the
    table of contents from the Markdown cells, not from an export of the whole notebook to
    Markdown; nbconvert's HTML without its last pass through BeautifulSoup. Neither may
    change what a reader gets: the same contents and title for every notebook, and the same
    page once both are read as HTML."""
    from bs4 import BeautifulSoup
    from mkdocs.config import load_config
    from mkdocs_jupyter import convert
    from mkdocs_jupyter.plugin import _get_nb_toc_tokens

    notebooks = sorted((cold_builds.cache / "notebooks").glob("*.ipynb"))
    assert [path.stem for path in notebooks] == CHAPTERS
    config = load_config(str(ROOT / "mkdocs.yml")).plugins["mkdocs-jupyter"].config
    for path in notebooks:
        assert toc_and_title(str(path), config["toc_depth"]) == \
            _get_nb_toc_tokens(str(path), config["toc_depth"])
    path = str(min(notebooks, key=lambda p: p.stat().st_size))
    options = {key: config[key] for key in _RENDER_OPTIONS}
    theirs = convert.nb2html(path, **options)
    with _OneExporter():
        ours = convert.nb2html(path, **options)
    body, style = ours.split("\n        <style>", 1)
    assert ours != theirs and ours.count('tabindex="0"') > 10    # ours, not theirs again
    assert str(BeautifulSoup(body, features="html.parser")) + "\n        <style>" + style \
        == theirs


def page_text_outputs(html_page: str) -> list[str]:
    """The text outputs shown on a chapter page, in order: highlighted blocks with no
    syntax tokens in them (the source blocks above them are full of tokens)."""
    blocks = re.findall(r'<div class="highlight"><pre><span></span><code>(.*?)</code></pre>',
                        html_page, re.S)
    return [html.unescape(b).strip() for b in blocks if "<span" not in b]


def download(site: Path, stem: str):
    return nbformat.read(site / "notebooks" / stem / f"{stem}.ipynb", as_version=4)


@pytest.mark.slow
def test_every_chapter_has_a_notebook_page_linked_both_ways(site):
    css = set()
    for stem in CHAPTERS:
        page = (site / "notebooks" / stem / "index.html").read_text()
        assert (site / "notebooks" / stem / f"{stem}.ipynb").is_file()
        assert f'href="{stem}.ipynb" download' in page
        assert f'href="../../{stem}/"' in page                       # back to the chapter
        assert f'href="../notebooks/{stem}/"' in (site / stem / "index.html").read_text()
        assert '<script src="">' not in page and "x-mathjax-config" not in page
        assert "<style" not in page
        css |= set(re.findall(r'<link rel="stylesheet" href="\.\./\.\./(assets/notebooks/[^"]+)"',
                              page))
        assert 'class="jp-Cell-outputWrapper"' in page                # outputs shown
    assert len(css) == 1 and (site / css.pop()).is_file()          # one shared stylesheet
    index = json.loads((site / "search" / "search_index.json").read_text())
    assert not [d for d in index["docs"] if d["location"].startswith("notebooks/")]


@pytest.mark.slow
@pytest.mark.parametrize("stem", CHAPTERS)
def test_the_downloaded_notebook_opens_with_the_pages_outputs(site, stem):
    nb = download(site, stem)
    nbformat.validate(nb)
    page = (site / stem / "index.html").read_text()
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    printed = ["".join(o.text for o in cell.outputs if o.output_type == "stream").strip()
               for cell in code]
    assert [p for p in printed if p] == page_text_outputs(page)
    shown = [o.data.get("text/html", "") for cell in code for o in cell.outputs
             if o.output_type == "display_data"]
    # A figure stands alone in the notebook (its SVG inline); a table keeps its classes.
    tables = [html for html in shown if html.startswith('<figure class="bp-table"')]
    assert len(tables) == page.count('<figure class="bp-table"')
    figures = [o for cell in code for o in cell.outputs if o.output_type == "display_data"
               and o.data.get("text/html", "").startswith("<figure style=")]
    assert len(figures) == len(re.findall(r'<figure class="bp-figure[ "]', page))  # explorers too
    for figure in figures:
        assert figure.data["text/plain"].strip()                 # the alt text
        assert "<figcaption>" in figure.data["text/html"]
    assert not code[0].outputs and "%pip install" in code[0].source  # the install cell


# A kernel that cannot import this project: a fresh virtual environment that reaches the
# packages of the running one (NumPy, Matplotlib, ipykernel, pip) through a .pth line. Paths
# added that way are not site directories, so their .pth files, among them this project's
# editable install, are not read.
def bare_kernel(folder: Path) -> str:
    venv.create(folder, with_pip=False, symlinks=True)
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    site_packages = folder / "lib" / version / "site-packages"
    (site_packages / "parent-environment.pth").write_text(
        "\n".join(p for p in sys.path if p.endswith("site-packages")) + "\n")
    name = f"bare-{folder.name}"
    spec = {"argv": [str(folder / "bin" / "python"), "-m", "ipykernel_launcher",
                     "-f", "{connection_file}", "--IPKernelApp.log_level=ERROR"],
            "display_name": name, "language": "python",
            # The network guard: nothing but loopback, in the kernel and in pip. One BLAS
            # thread, as in the build: a sum split over two threads rounds differently, and a
            # figure's coordinates would differ in the last digit.
            "env": {"PYTHONPATH": str(NETGUARD), "BP_NETWORK_LOG": str(folder / "network.log"),
                    "PIP_NO_INPUT": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1",
                    "OPENBLAS_NUM_THREADS": "1"}}
    kernel = folder / "share" / "jupyter" / "kernels" / name
    kernel.mkdir(parents=True)
    (kernel / "kernel.json").write_text(json.dumps(spec))
    return name


def comparable(outputs) -> list:
    """Outputs as the comparison sees them: consecutive streams joined (a kernel flushes in
    chunks that depend on timing), display data by its contents."""
    result: list = []
    for output in outputs:
        if output.output_type == "stream":
            if result and result[-1][0] == "stream":
                result[-1] = ("stream", result[-1][1] + output.text)
            else:
                result.append(("stream", output.text))
        elif output.output_type == "display_data":
            result.append(("display", dict(output.data)))
        else:
            result.append((output.output_type, output.get("evalue", "")))
    return result


async def run_alone(nb, env: Path, work: Path, site_url: str, served_url: str):
    """Execute ``nb`` in a fresh kernel of the bare environment ``env``, in the folder
    ``work``, its install cell pointed at the site served on 127.0.0.1 instead of the
    published one."""
    from nbclient import NotebookClient

    install = nb.cells[1]
    assert site_url in install.source
    install.source = install.source.replace(site_url, served_url)
    work.mkdir(parents=True)
    client = NotebookClient(nb, timeout=300, kernel_name=f"bare-{env.name}",
                            resources={"metadata": {"path": str(work)}})
    await client.async_execute()
    tried = env / "network.log"
    assert not tried.exists(), f"the notebook tried to reach the network: {tried.read_text()}"
    return nb


@pytest.fixture(scope="session")
def notebooks_run_alone(site, tmp_path_factory):
    """Every downloaded notebook, each in a fresh kernel of one bare environment: the first
    installs the library from the site, the others find it installed (and run two at a
    time)."""
    site_url = re.search(r"<loc>([^<]+)</loc>", (site / "sitemap.xml").read_text())[1]
    folder = tmp_path_factory.mktemp("alone")
    env = folder / "env"
    bare_kernel(env)
    old = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        p for p in (str(env / "share" / "jupyter"), old) if p)

    def run_one(stem, served_url):
        try:
            # In a thread of its own, with its own event loop (the caller's thread may be
            # running one).
            return asyncio.run(run_alone(download(site, stem), env, folder / stem, site_url,
                                         served_url))
        except Exception as error:  # reported by the test of that chapter
            return error

    def run_all(served_url):
        first, *rest = CHAPTERS
        with ThreadPoolExecutor(2) as pool:     # two kernels at a time: two cores
            results = {first: pool.submit(run_one, first, served_url).result()}  # installs
            futures = {stem: pool.submit(run_one, stem, served_url) for stem in rest}
            results |= {stem: future.result() for stem, future in futures.items()}
        return results

    try:
        with serve(site) as served_url:
            yield {"results": run_all(served_url), "env": env}
    finally:
        if old is None:
            os.environ.pop("JUPYTER_PATH")
        else:
            os.environ["JUPYTER_PATH"] = old


@pytest.mark.slow
@pytest.mark.parametrize("stem", CHAPTERS)
def test_the_downloaded_notebook_runs_alone_and_gives_the_same_outputs(
        site, notebooks_run_alone, stem):
    """(The first notebook's install cell installed the library from the site; the
    others' found it.)"""
    ran = notebooks_run_alone["results"][stem]
    if isinstance(ran, Exception):
        raise ran
    built = [cell for cell in download(site, stem).cells if cell.cell_type == "code"]
    again = [cell for cell in ran.cells if cell.cell_type == "code"]
    assert len(built) == len(again)
    for number, (expected, got) in enumerate(zip(built[1:], again[1:], strict=True), start=2):
        assert comparable(got.outputs) == comparable(expected.outputs), (
            f"{stem}: code cell {number} differs from the page's output")


@pytest.mark.slow
def test_the_first_notebook_installed_the_library_from_the_site(notebooks_run_alone):
    env = notebooks_run_alone["env"]
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    installed = env / "lib" / version / "site-packages"
    assert (installed / "snippets" / "bp" / "mlp.py").is_file()
    assert list(installed.glob("backprop_first_principles-*.dist-info"))
    assert not (installed / "snippets" / "sitebuild").exists()   # only what notebooks use


@pytest.mark.slow
def test_a_cell_that_fails_only_in_a_kernel_is_caught(tmp_path, monkeypatch):
    """The runner above reports a failing cell (here one that fails only under IPython)."""
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# T"),
                nbformat.v4.new_code_cell("# http://published/\n"),
                nbformat.v4.new_code_cell("if 'get_ipython' in dir(__builtins__) or True:\n"
                                          "    import IPython\n"
                                          "    raise RuntimeError('fails only in a kernel')")]
    bare_kernel(tmp_path / "env")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "env" / "share" / "jupyter"))
    with ThreadPoolExecutor(1) as pool, \
            pytest.raises(CellExecutionError, match="fails only in a kernel"):
        pool.submit(asyncio.run, run_alone(nb, tmp_path / "env", tmp_path / "work",
                                           "http://published/", "http://127.0.0.1/")).result()


NOTEBOOK_CONFIG = """\
site_name: Fixture
site_url: https://example.org/fixture/
theme:
  name: mkdocs
not_in_nav: |
  /notebooks/*
plugins:
  - backprop:
      cache_dir: .cache/exec
      notebooks: true
  - mkdocs-jupyter:
      include: ["notebooks/*.ipynb"]
      execute: false
  - markdown-exec
markdown_extensions:
  - pymdownx.superfences
  - pymdownx.snippets:
      check_paths: true
"""


@pytest.mark.slow
def test_editing_an_imported_module_updates_the_notebook(fixture_site: FixtureSite):
    site = fixture_site
    site.write("mkdocs.yml", NOTEBOOK_CONFIG)
    site.write("pyproject.toml", (ROOT / "pyproject.toml").read_text())
    site.write("snippets/__init__.py", "")
    site.write("snippets/lib.py", "VALUE = 41\n")
    site.write("snippets/code.py", """
        # --8<-- [start:show]
        from snippets.lib import VALUE

        print(f"value={VALUE + 1}")
        # --8<-- [end:show]
    """)
    site.write("docs/page.md", '# Page\n\n```python exec="on" result="text"\n'
                               '--8<-- "snippets/code.py:show"\n```\n')

    def build():
        result = site.build()
        assert result.returncode == 0, result.stdout
        built = site.root / "site/notebooks/page"
        return (built / "index.html").read_text(), (built / "page.ipynb").read_text()

    page, notebook = build()
    assert "value=42" in page and "value=42" in notebook
    assert "https://example.org/fixture/assets/python/" in notebook
    assert build() == (page, notebook)                          # nothing changed
    site.write("snippets/lib.py", "VALUE = 99\n")              # a module, not the notebook's code
    page, notebook = build()
    assert "value=100" in page and "value=100" in notebook
