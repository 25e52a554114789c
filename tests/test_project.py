"""The project's promises about itself: two README commands that CI runs, pinned
dependencies, one name per chapter across docs/, snippets/ and tests/, ruff-clean code."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib

import pytest

from tests.conftest import ROOT


def quick_start_blocks() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    parts = re.split(r"^## Quick start *$", readme, flags=re.M)
    assert len(parts) == 2, "README.md needs exactly one '## Quick start' heading"
    section = re.split(r"^## ", parts[1], flags=re.M)[0]
    return [b.strip() for b in re.findall(r"^```bash\n(.*?)^```", section, flags=re.M | re.S)]


def test_readme_gives_serve_then_test_commands():
    serve, test = quick_start_blocks()
    for command in (serve, test):
        assert command.startswith("python3 -m venv .venv && ")
        assert "-c .ci/constraints.txt" in command
        assert "python -m snippets.sitebuild.vendor" in command
        assert "\n" not in command, "one command per block, so it can be copied whole"
    assert serve.endswith("mkdocs serve") and "NO_MKDOCS_2_WARNING=1" in serve
    assert test.endswith("python -m pytest") and "'.[test]'" in test


def test_ci_runs_exactly_the_readme_test_command():
    result = subprocess.run(["bash", str(ROOT / ".ci/run"), "--print"],
                            capture_output=True, text=True, check=True)
    assert result.stdout.strip() == quick_start_blocks()[1]


def test_every_dependency_is_pinned_by_the_constraints():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = dict(
        re.match(r"([A-Za-z0-9_.-]+)==(\S+)", line).groups()
        for line in (ROOT / ".ci/constraints.txt").read_text().splitlines()
        if line and not line.startswith("#")
    )
    pins = {name.lower().replace("_", "-"): version for name, version in pins.items()}
    wanted = project["dependencies"] + project["optional-dependencies"]["test"]
    for requirement in wanted:
        name = re.match(r"[A-Za-z0-9_.-]+", requirement).group().lower()
        assert name in pins, f"{name} is not pinned in .ci/constraints.txt"
    assert pins["mkdocs"].startswith("1.6.") and pins["mkdocs-material"].startswith("9.8.")
    assert pins["numpy"].startswith("2.") and pins["mkdocs-jupyter"].startswith("0.26.")


def chapters() -> list[str]:
    """Pages that execute code are chapters."""
    return sorted(p.stem for p in (ROOT / "docs").glob("*.md") if 'exec="on"' in p.read_text())


@pytest.mark.parametrize("slug", chapters())
def test_a_chapter_has_its_snippets_and_tests_under_the_same_name(slug):
    name = slug.replace("-", "_")
    assert (ROOT / "snippets" / name / "__init__.py").is_file()
    assert (ROOT / "tests" / f"test_{name}.py").is_file()
    page = (ROOT / "docs" / f"{slug}.md").read_text()
    included = set(re.findall(r'--8<-- "snippets/([^/"]+)/', page))
    assert name in included, f"docs/{slug}.md includes no code from snippets/{name}/"


def test_nav_lists_every_page():
    config = (ROOT / "mkdocs.yml").read_text()
    for page in (ROOT / "docs").glob("*.md"):
        assert re.search(rf":\s+{re.escape(page.name)}\s*$", config, re.M), page.name


def test_ruff_is_clean():
    ruff = shutil.which("ruff") or shutil.which("ruff", path=str(sys.prefix) + "/bin")
    if ruff is None:
        pytest.skip("ruff is not installed (pip install -e '.[test]' installs it)")
    result = subprocess.run([ruff, "check", "snippets", "tests"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


SHOWN_COLUMNS = 79  # what a code block holds at 1280 px without scrolling (test_browser checks)


@pytest.mark.parametrize("page", sorted(p.name for p in (ROOT / "docs").glob("*.md")))
def test_every_line_of_code_a_page_shows_fits_without_scrolling(page):
    from snippets.sitebuild.fences import find_section

    long = []
    for target in re.findall(r'--8<-- "([^"]+)"', (ROOT / "docs" / page).read_text()):
        path, _, name = target.rpartition(":")
        section = find_section(ROOT / path, name)
        long += [f"{path}:{section.first_line + i}: {len(line)} columns"
                 for i, line in enumerate(section.code.splitlines())
                 if len(line) > SHOWN_COLUMNS]
    assert not long, "\n".join(long)


NOTE_FILE = re.compile(r"\b\d{3}_[0-9a-f]{16}\.txt\b")   # a source note's file name


@pytest.mark.parametrize("page", sorted(p.name for p in (ROOT / "docs").glob("*.md")
                                         if p.name != "notes.md"))
def test_pages_name_the_notes_by_number_and_link_to_their_retelling(page):
    """A reader never sees the notes' files (notes.md may cite them as its sources): a page
    says "note 002", and a chapter that does links to the notes' retelling on notes.md."""
    text = (ROOT / "docs" / page).read_text()
    found = NOTE_FILE.search(text)
    assert found is None, f"docs/{page} names a note's file, {found and found[0]}"
    if page.removesuffix(".md") in chapters() and re.search(r"\bnote 00\d\b", text, re.I):
        assert re.search(r"\]\(notes\.md(#[^)]*)?\)", text), f"docs/{page} never links to notes.md"


def _section(text: str, heading: str) -> str:
    """The body of the ``## heading`` section of a page ('' if there is none)."""
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    return match[1] if match else ""


@pytest.mark.parametrize("slug", [s for s in chapters() if s != "errata"])
def test_a_chapter_ends_with_what_to_remember_and_exercises(slug):
    """Three to five points to remember, then at least three exercises, each with a
    solution folded by default (``??? success``), the last two sections of the page."""
    text = (ROOT / "docs" / f"{slug}.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+)$", text, re.M)
    assert headings[-2:] == ["What to remember", "Exercises"], headings[-3:]
    points = re.findall(r"^- ", _section(text, "What to remember"), re.M)
    assert 3 <= len(points) <= 5, f"{slug}: {len(points)} points to remember"
    exercises = _section(text, "Exercises")
    asked = re.findall(r"^(?:\d+\. |\*\*\d+\. )", exercises, re.M)
    solved = re.findall(r"^ *\?\?\? success", exercises, re.M)
    assert len(asked) >= 3 and len(solved) == len(asked), (slug, len(asked), len(solved))


def test_the_prose_keeps_two_corrections_the_audit_made():
    """Dynamical isometry is Saxe et al.'s term (2014), not Pennington et al.'s; the
    variance argument's layer step multiplies by the weights of the layer above."""
    spectra = (ROOT / "docs" / "jacobian-spectra.md").read_text(encoding="utf-8")
    named = spectra.index("**dynamical isometry**")
    assert "(references.md#saxe2014)" in spectra[max(0, named - 400):named]
    activations = (ROOT / "docs" / "activations-and-initialisation.md").read_text(
        encoding="utf-8")
    steps = re.findall(r"\\operatorname\{diag\}\\bigl\(g'\(z_l\)\\bigr\)\\, (W_\{?[^\\]+)",
                       activations)
    assert steps and all(step.rstrip() == "W_{l+1}^" for step in steps), steps
