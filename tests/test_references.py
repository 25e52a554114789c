"""The references page: every citation in a chapter resolves to an entry, every entry is cited,
has a stable link and says truthfully which chapters cite it."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT

DOCS = ROOT / "docs"
REFERENCES = DOCS / "references.md"
CITATION = re.compile(r"\]\(references\.md#([^)\s]+)\)")
ENTRY = re.compile(r"^\*\*(?P<authors>[^*]+?) \((?P<year>\d{4}[a-z]?)\)\.\*\*(?P<body>.*?)"
                   r"^\{#(?P<key>[\w-]+) \.bp-ref\}$", re.M | re.S)
STABLE_LINK = re.compile(r"\]\(https://(doi\.org/10\.|arxiv\.org/abs/\d{4}\.\d{4,5}\)"
                         r"|proceedings\.mlr\.press/|www\.deeplearningbook\.org\))")


def entries() -> dict[str, re.Match]:
    return {m["key"]: m for m in ENTRY.finditer(REFERENCES.read_text(encoding="utf-8"))}


def citations() -> dict[str, set[str]]:
    """Which pages cite which keys: {key: {page file name}}."""
    cited: dict[str, set[str]] = {}
    for page in sorted(DOCS.glob("*.md")):
        if page != REFERENCES:
            for key in CITATION.findall(page.read_text(encoding="utf-8")):
                cited.setdefault(key, set()).add(page.name)
    return cited


def first_author(match: re.Match) -> str:
    return match["authors"].split(",")[0]


def test_the_page_parses_into_entries():
    text = REFERENCES.read_text(encoding="utf-8")
    assert len(entries()) == text.count(".bp-ref}") >= 10


def test_every_cited_key_is_defined():
    defined = entries()
    missing = {key: sorted(pages) for key, pages in citations().items() if key not in defined}
    assert not missing, f"cited but not on the references page: {missing}"


def test_every_entry_is_cited_and_says_where():
    cited = citations()
    for key, entry in entries().items():
        assert key in cited, f"{key} is cited by no chapter"
        cited_in = entry["body"].split("Cited in", 1)[1]
        listed = set(re.findall(r"\]\(([\w-]+\.md)\)", cited_in))
        assert listed == cited[key], f"{key}: 'Cited in' lists {sorted(listed)}, " \
                                     f"the pages that cite it are {sorted(cited[key])}"


@pytest.mark.parametrize("key", sorted(entries()))
def test_an_entry_is_complete_with_a_stable_link(key):
    entry = entries()[key]
    assert re.match(r"[A-Z]\w+, [A-Z]\.", entry["authors"]), entry["authors"]
    assert STABLE_LINK.search(entry["body"]), f"{key}: no DOI, arXiv or permanent page link"
    title = entry["body"].strip().split(".")[0]
    assert len(title) > 10, f"{key}: no title"


def test_a_chapter_that_names_an_author_links_the_work():
    """A chapter that writes "Veit et al." or "Glorot and Bengio" must link the reference at
    least once, so that a reader can find the work from the chapter."""
    by_author: dict[str, set[str]] = {}
    for key, entry in entries().items():
        by_author.setdefault(first_author(entry), set()).add(key)
    cited = citations()
    for page in sorted(DOCS.glob("*.md")):
        if page == REFERENCES:
            continue
        text = page.read_text(encoding="utf-8")
        linked = {key for key, pages in cited.items() if page.name in pages}
        for author, keys in by_author.items():
            if re.search(rf"(?<!, )(?<!and )\b{author}(,| et al| and| &)", text):
                assert keys & linked, f"{page.name} names {author} but links none of {keys}"
