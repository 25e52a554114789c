"""Companion notebooks: made from the same sections as their chapter, executed by the build,
re-executed when an imported module changes, and runnable on their own in a fresh kernel."""

from __future__ import annotations

import html
import json
import re
import textwrap

import nbformat
import pytest

from snippets.sitebuild.fences import scan_page
from snippets.sitebuild.notebooks import chapter_notebook
from tests.conftest import ROOT, FixtureSite

CHAPTERS = sorted(p.stem for p in (ROOT / "docs").glob("*.md")
                  if 'exec="on"' in p.read_text() and p.name != "errata.md")


def test_a_notebook_holds_the_pages_sections_in_order():
    markdown = (ROOT / "docs" / "sigmoid.md").read_text()
    fences = scan_page(markdown, "sigmoid.md", ROOT)
    nb = chapter_notebook(markdown, "sigmoid.md", fences, ROOT)
    code = [cell.source for cell in nb.cells if cell.cell_type == "code"]
    assert code == [fence.section.code for fence in fences]
    markdown_cells = [cell.source for cell in nb.cells if cell.cell_type == "markdown"]
    assert markdown_cells[0].startswith("# The sigmoid, worked end to end")
    assert "](../sigmoid.md)" in markdown_cells[0]
    assert "## The mirror identity" in markdown_cells
    assert [cell.id for cell in nb.cells] == [f"cell-{i}" for i in range(len(nb.cells))]
    assert nbformat.writes(nb) == nbformat.writes(chapter_notebook(markdown, "sigmoid.md",
                                                                   fences, ROOT))


def test_the_digest_follows_imported_modules(tmp_path):
    def write(rel, text):
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())

    write("lib/__init__.py", "")
    write("lib/core.py", "VALUE = 1\n")
    write("lib/other.py", "X = 1\n")
    write("code.py", """
        # --8<-- [start:a]
        from lib.core import VALUE
        print(VALUE)
        # --8<-- [end:a]
    """)
    page = '# Title\n\n```python exec="on"\n--8<-- "code.py:a"\n```\n'

    def digest():
        nb = chapter_notebook(page, "page.md", scan_page(page, "page.md", tmp_path), tmp_path)
        return nb.metadata["backprop"]["inputs_sha256"]

    first = digest()
    write("lib/other.py", "X = 2\n")
    assert digest() == first
    write("lib/core.py", "VALUE = 2\n")
    assert digest() != first


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
        assert 'class="jp-Cell-outputWrapper"' in page                # executed
    assert len(css) == 1 and (site / css.pop()).is_file()          # one shared stylesheet
    index = json.loads((site / "search" / "search_index.json").read_text())
    assert not [d for d in index["docs"] if d["location"].startswith("notebooks/")]


def page_text_outputs(html_page: str) -> list[str]:
    """The text outputs shown on a chapter page, in order: highlighted blocks with no
    syntax tokens in them (the source blocks above them are full of tokens)."""
    blocks = re.findall(r'<div class="highlight"><pre><span></span><code>(.*?)</code></pre>',
                        html_page, re.S)
    return [html.unescape(b).strip() for b in blocks if "<span" not in b]


@pytest.mark.slow
@pytest.mark.parametrize("stem", CHAPTERS)
def test_the_downloaded_notebook_runs_and_prints_what_the_page_shows(site, stem):
    from nbclient import NotebookClient

    nb = nbformat.read(site / "notebooks" / stem / f"{stem}.ipynb", as_version=4)
    assert not any(cell.get("outputs") for cell in nb.cells if cell.cell_type == "code")
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT)}}).execute()
    printed = ["".join(o.text for o in cell.outputs if o.output_type == "stream").strip()
               for cell in nb.cells if cell.cell_type == "code"]
    assert [p for p in printed if p] == page_text_outputs((site / stem / "index.html")
                                                          .read_text())


NOTEBOOK_CONFIG = """\
site_name: Fixture
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
      execute: true
      allow_errors: false
      kernel_name: backprop-build
  - markdown-exec
markdown_extensions:
  - pymdownx.superfences
  - pymdownx.snippets:
      check_paths: true
"""


@pytest.mark.slow
def test_editing_an_imported_module_reexecutes_the_notebook(fixture_site: FixtureSite):
    site = fixture_site
    site.write("mkdocs.yml", NOTEBOOK_CONFIG)
    site.write("snips/lib.py", "VALUE = 41\n")
    site.write("snips/code.py", """
        # --8<-- [start:show]
        from snips.lib import VALUE

        print(f"value={VALUE + 1}")
        # --8<-- [end:show]
    """)
    site.write("docs/index.md", '# Page\n\n```python exec="on" result="text"\n'
                                '--8<-- "snips/code.py:show"\n```\n')
    cache = site.root / ".cache" / "mkdocs-jupyter"

    def build():
        result = site.build()
        assert result.returncode == 0, result.stdout
        return (site.root / "site/notebooks/index.html").read_text(), set(cache.iterdir())

    page, entries = build()
    assert "value=42" in page
    assert build() == (page, entries)                      # nothing changed: cache hit
    site.write("snips/lib.py", "VALUE = 99\n")              # a module, not the notebook's code
    page, changed = build()
    assert "value=100" in page and changed != entries


@pytest.mark.slow
def test_a_failing_cell_fails_the_build(fixture_site: FixtureSite):
    site = fixture_site
    site.write("mkdocs.yml", NOTEBOOK_CONFIG)
    site.write("snips/code.py", """
        # --8<-- [start:boom]
        import builtins

        if hasattr(builtins, "get_ipython"):   # IPython defines it; the page build does not
            raise RuntimeError("fails only in the notebook's kernel")
        # --8<-- [end:boom]
    """)
    site.write("docs/index.md", '# Page\n\n```python exec="on"\n--8<-- "snips/code.py:boom"\n```\n')
    result = site.build(strict=False)
    assert result.returncode != 0
    assert "fails only in the notebook's kernel" in result.stdout
