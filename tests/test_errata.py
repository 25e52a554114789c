"""docs/errata.md: every entry points to a chapter section that exists and to a snippet
section that the chapter runs and that runs; broken entries are refused."""

from __future__ import annotations

import importlib

import pytest

from snippets.errata import table

ENTRIES = table.load_entries()


@pytest.mark.parametrize("entry", ENTRIES, ids=[f"{e['note']}-{i}" for i, e in enumerate(ENTRIES)])
def test_entry_is_demonstrated(entry):
    assert table.problems(entry) == []
    module = entry["snippet"].partition(":")[0].removesuffix(".py").replace("/", ".")
    importlib.import_module(module)     # runs every section of the snippet file


def test_every_note_has_entries():
    assert {e["note"] for e in ENTRIES} == {"000", "001", "002", "003", "004"}


@pytest.mark.parametrize("change, message", [
    ({"anchor": "no-such-heading"}, "has no heading #no-such-heading"),
    ({"snippet": "snippets/backprop_mlp/backprop.py:absent"}, "section 'absent' not found"),
    ({"snippet": "snippets/sigmoid/worked.py:setup"}, "does not run"),
    ({"chapter": "nope.md"}, "no page docs/nope.md"),
    ({"kind": "false"}, "kind 'false'"),
    ({"claim": "|x| is big"}, "would split the table"),
])
def test_a_broken_entry_is_refused(change, message):
    entry = {**ENTRIES[0], **change}
    assert any(message in p for p in table.problems(entry)), table.problems(entry)
