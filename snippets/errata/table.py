"""The errata table (docs/errata.md runs the section below): entries.toml, checked against
the repository and printed as Markdown."""

# --8<-- [start:table]
import re
import tomllib
from pathlib import Path

from markdown.extensions.toc import slugify

import snippets
from snippets.sitebuild.fences import FenceError, find_section

ROOT = Path(snippets.__file__).resolve().parent.parent
KINDS = {"wrong": "wrong", "sloppy": "sloppy",
         "conditional": "needs a condition"}


def load_entries(path=ROOT / "snippets" / "errata" / "entries.toml"):
    return tomllib.loads(Path(path).read_text(encoding="utf-8"))["entry"]


def headings(chapter):
    """{anchor: heading text} of a page, anchors as MkDocs' toc makes them."""
    text = (ROOT / "docs" / chapter).read_text(encoding="utf-8")
    found = re.findall(r"^#{1,6} +(.+?) *$", text, re.M)
    return {slugify(h, "-"): h for h in found}


def problems(entry):
    """What is wrong with an entry: a missing page, anchor or snippet
    section, or a section that the page does not run."""
    found = []
    chapter = entry["chapter"]
    page = ROOT / "docs" / chapter
    if not page.is_file():
        return [f"no page docs/{chapter}"]
    if entry["anchor"] not in headings(chapter):
        found.append(f"docs/{chapter} has no heading #{entry['anchor']}")
    file, _, section = entry["snippet"].rpartition(":")
    try:
        find_section(ROOT / file, section)
    except (FenceError, OSError) as error:
        found.append(str(error))
    if f'--8<-- "{entry["snippet"]}"' not in page.read_text(encoding="utf-8"):
        found.append(f"docs/{chapter} does not run {entry['snippet']}")
    if entry["kind"] not in KINDS:
        found.append(f"kind {entry['kind']!r} is not one of {sorted(KINDS)}")
    if any("|" in entry[key] for key in ("claim", "correct")):
        found.append("a | would split the table: "
                     "write \\lvert ... \\rvert in math")
    return found


entries = load_entries()
errors = [f"entry {i + 1} ({e['note']}): {p}" for i, e in enumerate(entries)
          for p in problems(e)]
if errors:
    raise ValueError("errata entries that cannot be shown:\n"
                     + "\n".join(errors))

print("| Note | As written | Correct statement | Shown in |")
print("| --- | --- | --- | --- |")
for e in entries:
    title = headings(e["chapter"])[e["anchor"]]
    link = f"[{title}]({e['chapter']}#{e['anchor']})"
    cells = [f"{e['note']}, {KINDS[e['kind']]}", e["claim"], e["correct"],
             link]
    print("| " + " | ".join(c.replace("\n", " ") for c in cells) + " |")
print(f"\n{len(entries)} entries, from "
      f"{len({e['note'] for e in entries})} notes.")
# --8<-- [end:table]
