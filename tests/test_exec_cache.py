"""No needless re-execution, never a stale output.

Every block of the fixture page appends its name to a log when it really runs, so each test
can say exactly which blocks ran in a build.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tests.conftest import QUIET, FixtureSite

pytestmark = pytest.mark.slow

PAGE_CODE = """
    # --8<-- [start:setup]
    from snips.lib.record import record

    record("setup")
    base = 5
    # --8<-- [end:setup]

    # --8<-- [start:a]
    from snips.lib import core

    record("a")
    a_value = core.VALUE + base
    print(f"a={a_value}")
    # --8<-- [end:a]

    # --8<-- [start:b]
    record("b")
    print(f"b={a_value * 2}")
    # --8<-- [end:b]

    # --8<-- [start:solo]
    from snips.lib.record import record

    record("solo")
    print("solo")
    # --8<-- [end:solo]
"""

PAGE = """
    # Page

    ```python exec="on" session="s"
    --8<-- "snips/page.py:setup"
    ```

    ```python exec="on" session="s" result="text"
    --8<-- "snips/page.py:a"
    ```

    ```python exec="on" session="s" result="text"
    --8<-- "snips/page.py:b"
    ```

    ```python exec="on" result="text"
    --8<-- "snips/page.py:solo"
    ```
"""


@pytest.fixture
def site(fixture_site: FixtureSite, tmp_path) -> FixtureSite:
    fixture_site.write("snips/lib/__init__.py", "")
    fixture_site.write("snips/lib/record.py", """
        import os


        def record(name):
            with open(os.environ["RUNS_LOG"], "a") as log:
                log.write(name + "\\n")
    """)
    fixture_site.write("snips/lib/core.py",
                       "from snips.lib.deep import FACTOR\n\nVALUE = 3 * FACTOR\n")
    fixture_site.write("snips/lib/deep.py", "FACTOR = 10\n")
    fixture_site.write("snips/lib/unrelated.py", "X = 1\n")
    fixture_site.write("snips/page.py", PAGE_CODE)
    fixture_site.write("docs/index.md", PAGE)
    fixture_site.write("docs/other.md", "# Other\n\nProse only.\n")
    fixture_site.runs_log = tmp_path / "runs.log"
    return fixture_site


def build_and_runs(site: FixtureSite, **kwargs) -> list[str]:
    """Build strictly; return the blocks that really ran, in order."""
    site.runs_log.write_text("")
    result = site.build(env={"RUNS_LOG": str(site.runs_log)}, **kwargs)
    assert result.returncode == 0, result.stdout
    return site.runs_log.read_text().split()


def edit(site: FixtureSite, relpath: str, old: str, new: str) -> None:
    path = site.root / relpath
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_an_unchanged_rebuild_runs_nothing_and_gives_the_same_page(site):
    assert build_and_runs(site) == ["setup", "a", "b", "solo"]
    first = site.html()
    assert "a=35" in first and "b=70" in first
    assert build_and_runs(site) == []
    assert site.html() == first
    # and from a new interpreter, with another hash seed: the cache key holds no hash()
    assert build_and_runs(site, fresh=True) == []
    assert site.html() == first


def test_editing_a_block_reruns_it_after_replaying_its_session(site):
    build_and_runs(site)
    edit(site, "snips/page.py", "a_value * 2", "a_value * 3")
    # setup and a are cached, but b needs their variables: they are replayed, then b runs.
    assert build_and_runs(site) == ["setup", "a", "b"]
    assert "b=105" in site.html()


def test_editing_an_earlier_block_of_a_session_reruns_the_later_ones(site):
    build_and_runs(site)
    edit(site, "snips/page.py", "base = 5", "base = 6")
    assert build_and_runs(site) == ["setup", "a", "b"]
    assert "a=36" in site.html() and "b=72" in site.html()


def test_editing_a_transitively_imported_module_reruns_its_importers(site):
    build_and_runs(site)
    edit(site, "snips/lib/deep.py", "FACTOR = 10", "FACTOR = 20")
    # a imports core, which imports deep; b follows a in the session; solo imports neither.
    assert build_and_runs(site) == ["setup", "a", "b"]
    assert "a=65" in site.html() and "b=130" in site.html()


def test_editing_a_file_a_block_reads_reruns_it(site):
    """Not an import: a data file a block opens (as the errata table reads its entries)."""
    site.write("snips/table.txt", "41\n")
    site.write("snips/reader.py", """
        # --8<-- [start:read]
        from pathlib import Path

        from snips.lib.record import record

        record("read")
        print("value", int(Path("snips/table.txt").read_text()) + 1)
        # --8<-- [end:read]
    """)
    page = (site.root / "docs/index.md").read_text()
    site.write("docs/index.md", page + '\n```python exec="on" result="text"\n'
                                       '--8<-- "snips/reader.py:read"\n```\n')
    assert "read" in build_and_runs(site)
    assert "value 42" in site.html()
    assert build_and_runs(site) == []
    edit(site, "snips/table.txt", "41", "99")
    assert build_and_runs(site) == ["read"]
    assert "value 100" in site.html()


def test_editing_what_no_block_imports_reruns_nothing(site):
    build_and_runs(site)
    edit(site, "snips/lib/unrelated.py", "X = 1", "X = 2")
    edit(site, "docs/index.md", "# Page", "# Page, retitled")
    edit(site, "docs/other.md", "Prose only.", "Prose, edited.")
    assert build_and_runs(site) == []
    assert "retitled" in site.html()


def test_without_the_cache_every_block_runs_every_time(site):
    edit(site, "mkdocs.yml", "cache_dir: .cache/exec", "cache: false")
    assert build_and_runs(site) == ["setup", "a", "b", "solo"]
    assert build_and_runs(site) == ["setup", "a", "b", "solo"]


def test_outputs_no_longer_used_are_removed_from_the_cache(site):
    build_and_runs(site)
    for value in ("6", "7", "8"):
        edit(site, "snips/page.py", f"base = {int(value) - 1}", f"base = {value}")
        build_and_runs(site)
    assert len(list((site.root / ".cache/exec").glob("*.json"))) == 4


@pytest.mark.parametrize("damage", ["edited", "truncated", "emptied"])
def test_a_damaged_cache_entry_is_detected_and_its_block_runs_again(site, damage):
    build_and_runs(site)
    entries = [p for p in (site.root / ".cache/exec").glob("*.json") if "a=35" in p.read_text()]
    assert len(entries) == 1
    text = entries[0].read_text()
    entries[0].write_text({"edited": text.replace("a=35", "a=99"),  # digest left as it was
                           "truncated": text[: len(text) // 2], "emptied": ""}[damage])
    site.runs_log.write_text("")
    result = site.build(env={"RUNS_LOG": str(site.runs_log)})
    assert result.returncode == 0, result.stdout
    assert "was damaged or edited on disk" in result.stdout and "running the block again" \
        in result.stdout
    assert "a=35" in site.html() and "a=99" not in site.html()
    assert site.runs_log.read_text().split() == ["setup", "a"]  # replayed setup, then a
    assert build_and_runs(site) == []                            # and the entry is whole again


def test_a_long_lived_process_sees_edited_modules(site, monkeypatch):
    """`mkdocs serve` builds again in the same process, where `import` would return the
    module it loaded before the edit."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    monkeypatch.setenv("RUNS_LOG", str(site.runs_log))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    monkeypatch.setattr(sys, "path", list(sys.path))  # the plugin adds the project root
    config_file = str(site.root / "mkdocs.yml")
    try:
        build(load_config(config_file))
        assert "a=35" in site.html()
        edit(site, "snips/lib/deep.py", "FACTOR = 10", "FACTOR = 20")
        build(load_config(config_file))
        assert "a=65" in site.html()
    finally:
        for name in [m for m in sys.modules if m == "snips" or m.startswith("snips.")]:
            del sys.modules[name]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(url: str, pattern: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    body = ""
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                body = response.read().decode()
            if re.search(pattern, body):
                return body
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(0.3)
    raise AssertionError(f"{url} never matched {pattern!r}; last body:\n{body[-2000:]}")


def test_serve_updates_on_save_shows_errors_and_recovers(site):
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "mkdocs", "serve", "-a", f"127.0.0.1:{port}"],
        cwd=site.root, env={**os.environ, **QUIET, "RUNS_LOG": str(site.runs_log),
                            "BP_EXEC_TIMEOUT": "2"},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_for(url, "a=35")
        edit(site, "snips/lib/deep.py", "FACTOR = 10", "FACTOR = 20")  # a module, not a page
        _wait_for(url, "a=65")
        edit(site, "snips/page.py", 'print(f"b={a_value * 2}")', "b_value = 1 / 0")
        _wait_for(url, "ZeroDivisionError")  # shown on the page; the server keeps serving
        edit(site, "snips/page.py", "b_value = 1 / 0", 'print(f"b={a_value * 4}")')
        _wait_for(url, "b=260")
        edit(site, "snips/page.py", 'print(f"b={a_value * 4}")', "while True:\n    pass")
        _wait_for(url, "did not finish within its time limit of 2 s")  # a hang: reported
        edit(site, "snips/page.py", "while True:\n    pass", 'print(f"b={a_value * 5}")')
        _wait_for(url, "b=325")
        assert server.poll() is None, "the server stopped"
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert "ZeroDivisionError" in output  # and the errors were in the terminal too
    assert "did not finish within its time limit" in output
