"""Failure is loud: each deliberately broken fixture site fails `mkdocs build --strict`,
and the message names the page and, for code, the snippet file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import FIXTURE_CONFIG

pytestmark = pytest.mark.slow

RAISES = """
    # --8<-- [start:ok]
    print("fine")
    # --8<-- [end:ok]

    # --8<-- [start:boom]
    values = [1, 2, 3]
    total = sum(values)
    ratio = total / (len(values) - 3)
    # --8<-- [end:boom]

    # --8<-- [start:overflow]
    import numpy as np
    big = np.exp(np.array([1000.0]))
    # --8<-- [end:overflow]

    # --8<-- [start:figure]
    print('<img src="plots/nowhere.svg" alt="a plot that was never made">')
    # --8<-- [end:figure]

    # --8<-- [start:links]
    print("See [the other page](other.md#real-heading).")
    # --8<-- [end:links]

    # --8<-- [start:bad_file]
    print("See [a page that does not exist](gone.md).")
    # --8<-- [end:bad_file]

    # --8<-- [start:bad_anchor]
    print("See [a heading that does not exist](other.md#no-such-heading).")
    # --8<-- [end:bad_anchor]

    # --8<-- [start:no_alt]
    print('<img src="data:image/svg+xml;base64,PHN2Zy8+">')
    # --8<-- [end:no_alt]

    # --8<-- [start:spin]
    count = 0
    while True:
        count += 1
    # --8<-- [end:spin]

    # --8<-- [start:sleep]
    import time
    time.sleep(3600)
    # --8<-- [end:sleep]

    # --8<-- [start:flood]
    for i in range(1_000_000):
        print(f"line {i}")
    # --8<-- [end:flood]

    # --8<-- [start:unreadable]
    from snippets.figures import show, subplots
    fig, ax = subplots()
    ax.set_xlim(0, 1)
    ax.text(1.5, 0.5, "off the panel")
    show(fig, alt="a label beside the plot", caption="Out of reach.")
    # --8<-- [end:unreadable]
"""


def exec_fence(target: str, *, output: str = "text") -> str:
    """An executed fence whose output is shown as text, raw HTML or Markdown."""
    mode = {"text": ' result="text"', "html": ' html="1"', "markdown": ""}[output]
    return f'```python exec="on"{mode}\n--8<-- "{target}"\n```\n'


CASES = {
    "snippet raises": (
        "# Page\n\n" + exec_fence("snips/demo.py:ok") + "\n" + exec_fence("snips/demo.py:boom"),
        ["index.md", "snips/demo.py", "section 'boom'", "line 8", "ZeroDivisionError",
         "Aborted with 1 warnings in strict mode"],
    ),
    "snippet warns": (
        "# Page\n\n" + exec_fence("snips/demo.py:overflow"),
        ["index.md", "snips/demo.py", "line 13", "RuntimeWarning", "overflow"],
    ),
    "missing snippet file": (
        "# Page\n\nText.\n\n" + exec_fence("snips/absent.py:ok"),
        ["index.md:5", "snips/absent.py", "does not exist"],
    ),
    "missing section": (
        "# Page\n\n" + exec_fence("snips/demo.py:absent"),
        ["index.md:3", "section 'absent' not found in", "snips/demo.py", "'boom'"],
    ),
    "code pasted into the page": (
        '# Page\n\n```python exec="on"\nprint("pasted")\n```\n',
        ["index.md:3", "exactly one line", "never pasted"],
    ),
    "broken link": (
        "# Page\n\nSee [the next chapter](next.md).\n",
        ["index.md", "next.md", "not found"],
    ),
    "broken anchor": (
        "# Page\n\n## Real heading\n\nSee [below](#no-such-heading).\n",
        ["index.md", "#no-such-heading"],
    ),
    "missing figure (Markdown image)": (
        "# Page\n\n![The loss curve](figures/loss.svg)\n",
        ["index.md", "figures/loss.svg"],
    ),
    "missing figure (printed by a snippet)": (
        "# Page\n\n" + exec_fence("snips/demo.py:figure", output="html"),
        ["index.md", "plots/nowhere.svg", "not among the site's files"],
    ),
    "link printed by a snippet to a missing page": (
        "# Page\n\n" + exec_fence("snips/demo.py:bad_file", output="markdown"),
        ["index.md", "gone.md", "snippet output", "not found"],
    ),
    "anchor printed by a snippet that does not exist": (
        "# Page\n\n" + exec_fence("snips/demo.py:bad_anchor", output="markdown"),
        ["index.md", "other.md#no-such-heading", "no anchor"],
    ),
    "figure without alt text": (
        "# Page\n\n" + exec_fence("snips/demo.py:no_alt", output="html"),
        ["index.md", "has no alt text"],
    ),
    "snippet never finishes": (
        "# Page\n\n" + exec_fence("snips/demo.py:spin"),
        ["index.md", "snips/demo.py", "section 'spin'", "did not finish within its time limit "
         "of 2 s", "timeout in mkdocs.yml"],
    ),
    "snippet blocks forever": (
        "# Page\n\n" + exec_fence("snips/demo.py:sleep"),
        ["index.md", "snips/demo.py", "line 44", "did not finish within its time limit"],
    ),
    "snippet prints a million lines": (
        "# Page\n\n" + exec_fence("snips/demo.py:flood"),
        ["index.md", "snips/demo.py", "line 49", "printed more than 200,000 characters",
         "max_output"],
    ),
    "figure a reader cannot read": (
        "# Page\n\n" + exec_fence("snips/demo.py:unreadable", output="html"),
        ["index.md", "snips/demo.py", "section 'unreadable'", "line 57",
         "not laid out for reading", "the label 'off the panel' lies outside its axes"],
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_broken_site_fails_strict_build_naming_the_cause(fixture_site, case):
    page, expected = CASES[case]
    fixture_site.write("snips/demo.py", RAISES)
    fixture_site.write("docs/index.md", page)
    fixture_site.write("docs/other.md", "# Other\n\n## Real heading\n")
    result = fixture_site.build(env={"BP_EXEC_TIMEOUT": "2"})  # a hang costs 2 s, not 60
    assert result.returncode != 0, f"{case}: the strict build passed:\n{result.stdout}"
    missing = [text for text in expected if text not in result.stdout]
    assert not missing, f"{case}: the build log lacks {missing}:\n{result.stdout}"
    assert len(result.stdout) < 20_000, "the log repeats what the snippet printed"


def test_a_raising_snippet_is_shown_on_the_page_when_not_strict(fixture_site):
    """What `mkdocs serve` does: the build goes on and the page shows the traceback."""
    fixture_site.write("snips/demo.py", RAISES)
    fixture_site.write("docs/index.md", "# Page\n\n" + exec_fence("snips/demo.py:boom"))
    result = fixture_site.build(strict=False)
    assert result.returncode == 0, result.stdout
    page = fixture_site.html()
    assert "ZeroDivisionError" in page
    assert "snips/demo.py" in page
    assert "ratio = total / (len(values) - 3)" in page  # the failing line, from the file


def test_links_printed_by_snippets_are_rewritten_to_the_built_urls(fixture_site):
    fixture_site.write("snips/demo.py", RAISES)
    fixture_site.write("docs/other.md", "# Other\n\n## Real heading\n")
    page = "# Page\n\n" + exec_fence("snips/demo.py:links", output="markdown")
    fixture_site.write("docs/index.md", page)
    result = fixture_site.build()
    assert result.returncode == 0, result.stdout
    assert 'href="other/#real-heading"' in fixture_site.html()


def test_the_fixture_site_builds_when_nothing_is_broken(fixture_site):
    """The cases above fail because of what each breaks, not because of the fixture."""
    fixture_site.write("snips/demo.py", RAISES)
    fixture_site.write("docs/index.md", "# Page\n\n## Real heading\n\n"
                       + exec_fence("snips/demo.py:ok") + "\nSee [above](#real-heading).\n")
    result = fixture_site.build()
    assert result.returncode == 0, result.stdout
    assert "fine" in fixture_site.html()


def test_descriptions_come_from_front_matter_or_the_first_plain_paragraph(fixture_site):
    config = FIXTURE_CONFIG.replace("name: mkdocs", "name: material")  # renders page meta
    option = "      cache_dir: .cache/exec\n"
    fixture_site.write("mkdocs.yml", config.replace(option, option + "      descriptions: true\n"))
    fixture_site.write("docs/index.md", """
        # Home

        A first paragraph that is long enough to describe the page on its own. And more.
        """)
    fixture_site.write("docs/set.md", "---\ndescription: Chosen by hand.\n---\n\n# Set\n")
    result = fixture_site.build()
    assert result.returncode == 0, result.stdout
    assert '<meta name="description" content="A first paragraph that is long enough' \
        in fixture_site.html()
    assert '<meta name="description" content="Chosen by hand.">' in fixture_site.html(
        "set/index.html")

    fixture_site.write("docs/set.md", "# Set\n\nShort.\n")
    result = fixture_site.build()
    assert result.returncode != 0
    assert "Doc file 'set.md' has no paragraph of plain text to describe it" in result.stdout


def test_tex_katex_cannot_typeset_fails_the_build_naming_the_page(fixture_site):
    """Math is typeset at build time; TeX that KaTeX rejects is a warning naming the page
    and the expression (fatal under --strict), never red text for a reader to find."""
    vendor_dir = Path(__file__).resolve().parents[1] / ".vendor"
    option = "      cache_dir: .cache/exec\n"
    config = FIXTURE_CONFIG.replace(option, option + f"      vendor_dir: {vendor_dir}\n")
    fixture_site.write("mkdocs.yml", config + "  - pymdownx.arithmatex:\n      generic: true\n")
    fixture_site.write("docs/index.md", "# Page\n\nFine: \\(x^2\\). Broken: \\(\\frac{1}{\\)\n")
    result = fixture_site.build()
    assert result.returncode != 0, result.stdout
    assert "index.md" in result.stdout and "KaTeX" in result.stdout
    assert "\\frac{1}{" in result.stdout, result.stdout
    fixture_site.write("docs/index.md", "# Page\n\nFine: \\(x^2\\).\n")
    result = fixture_site.build()
    assert result.returncode == 0, result.stdout
    page = fixture_site.html()
    assert '<span class="katex">' in page and "\\(x^2\\)" not in page
