"""Unit tests of the build machinery in snippets/sitebuild and of snippets/figures.py."""

from __future__ import annotations

import base64
import io
import json
import re
import tarfile
import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.patches import Circle, FancyArrowPatch

from snippets.figures import may_leave_axes, svg_figure
from snippets.sitebuild import vendor
from snippets.sitebuild.execution import BlockError, Executor, module_files
from snippets.sitebuild.fences import FenceError, find_section, scan_page


def write(root: Path, relpath: str, text: str) -> Path:
    path = root / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


SNIPPET = """
    import math
    # --8<-- [start:one]
    x = 1
    print(x + 1)
    # --8<-- [end:one]
    # --8<-- [start:two]
    y = x / 0
    # --8<-- [end:two]
"""


class TestFences:
    def test_section_lines_are_the_files_own(self, tmp_path):
        path = write(tmp_path, "s.py", SNIPPET)
        section = find_section(path, "one")
        assert (section.first_line, section.last_line) == (3, 4)
        assert section.code == "x = 1\nprint(x + 1)"

    def test_nested_markers_are_refused(self, tmp_path):
        path = write(tmp_path, "s.py", """
            # --8<-- [start:outer]
            a = 1
            # --8<-- [start:inner]
            b = 2
            # --8<-- [end:inner]
            # --8<-- [end:outer]
        """)
        with pytest.raises(FenceError, match="must not nest"):
            find_section(path, "outer")

    def test_unterminated_section(self, tmp_path):
        path = write(tmp_path, "s.py", "# --8<-- [start:one]\nx = 1\n")
        with pytest.raises(FenceError, match="no end marker"):
            find_section(path, "one")

    def test_scan_finds_exec_fences_only_in_page_order(self, tmp_path):
        write(tmp_path, "s.py", SNIPPET)
        page = textwrap.dedent('''
            # Title

            ```python
            not executed
            ```

            ```python exec="off"
            print("off")
            ```

            !!! note
                ~~~~python exec="1" session="demo" result="text"
                --8<-- "s.py:two"
                ~~~~

            ```py exec="on"
            --8<-- 's.py:one'
            ```
        ''')
        fences = scan_page(page, "page.md", tmp_path)
        assert [(f.page_line, f.session, f.section.name) for f in fences] == [
            (13, "demo", "two"), (17, "", "one")]

    @pytest.mark.parametrize("body, message", [
        ('print("pasted")', "exactly one line"),
        ('--8<-- "s.py:one"\nprint(1)', "exactly one line"),
        ('--8<-- "s.py"', "names no section"),
        ('--8<-- "s.py:3:4"', "names no section"),
        ('--8<-- "nope.py:one"', "does not exist"),
        ('--8<-- "s.py:zero"', "section 'zero' not found"),
    ])
    def test_bad_fences_name_page_and_line(self, tmp_path, body, message):
        write(tmp_path, "s.py", SNIPPET)
        page = f'# T\n\n```python exec="on"\n{body}\n```\n'
        with pytest.raises(FenceError, match=message) as error:
            scan_page(page, "chapter.md", tmp_path)
        assert str(error.value).startswith("chapter.md:3:")


class TestModuleFiles:
    def test_parents_submodules_and_relative_imports(self, tmp_path):
        write(tmp_path, "pkg/__init__.py", "")
        write(tmp_path, "pkg/sub/__init__.py", "from .leaf import f\n")
        write(tmp_path, "pkg/sub/leaf.py", "from ..util import g\nimport numpy\n")
        write(tmp_path, "pkg/util.py", "import os\n")
        write(tmp_path, "pkg/other.py", "")
        found = module_files("from pkg import sub", tmp_path)
        assert {p.relative_to(tmp_path).as_posix() for p in found} == {
            "pkg/__init__.py", "pkg/sub/__init__.py", "pkg/sub/leaf.py", "pkg/util.py"}

    def test_cycles_and_syntax_errors_terminate(self, tmp_path):
        write(tmp_path, "a.py", "import b\n")
        write(tmp_path, "b.py", "import a\nthis is not python\n")
        assert {p.name for p in module_files("import a", tmp_path)} == {"a.py", "b.py"}


class TestExecutor:
    def fences(self, tmp_path, names):
        path = write(tmp_path, "s.py", SNIPPET)
        page = "\n".join(f'```python exec="on" session="s"\n--8<-- "s.py:{n}"\n```' for n in names)
        return path, scan_page(page, "p.md", tmp_path)

    def test_output_and_traceback_point_at_the_snippet_file(self, tmp_path):
        path, fences = self.fences(tmp_path, ["one", "two"])
        executor = Executor(tmp_path, None)
        executor.start_page("p.md", fences)
        assert executor.run(find_section(path, "one").code, "s") == "2\n"
        with pytest.raises(BlockError) as error:
            executor.run(find_section(path, "two").code, "s")
        message = str(error.value)
        assert "p.md: block 2 (s.py, section 'two', line 7" in message
        assert 'File "s.py", line 7' in message and "y = x / 0" in message

    def test_warnings_are_errors(self, tmp_path):
        executor = Executor(tmp_path, None)
        with pytest.raises(BlockError, match="RuntimeWarning"):
            executor.run("import numpy as np\nnp.log(np.array([0.0]))")

    def test_print_options_do_not_leak_between_blocks(self, tmp_path):
        executor = Executor(tmp_path, None)
        executor.run("import numpy as np\nnp.set_printoptions(precision=2)")
        assert np.get_printoptions()["precision"] == 8
        assert executor.run("import numpy as np\nprint(np.array([1/3]))") == "[0.33333333]\n"

    def test_a_time_limit_stops_a_block_in_any_thread(self, tmp_path):
        """The build runs in the main thread (a timer signal) or, in some servers, in
        another (an asynchronous exception); both stop a block that never ends."""
        import threading

        def run(outcome):
            executor = Executor(tmp_path, None, timeout=0.5)
            try:
                executor.run("n = 0\nwhile True:\n    n += 1")
            except BlockError as error:
                outcome.append(str(error))

        for in_thread in (False, True):
            outcome: list[str] = []
            if in_thread:
                worker = threading.Thread(target=run, args=(outcome,))
                worker.start()
                worker.join(timeout=30)
            else:
                run(outcome)
            assert len(outcome) == 1 and "did not finish within its time limit of 0.5 s" \
                in outcome[0]
        assert Executor(tmp_path, None, timeout=0.5).run("print(1)") == "1\n"  # no stray alarm

    def test_printing_past_the_limit_stops_the_block(self, tmp_path):
        executor = Executor(tmp_path, None, max_output=1000)
        with pytest.raises(BlockError, match=r"printed more than 1,000 characters"):
            executor.run("while True:\n    print('spam')")
        assert executor.run("print('x' * 999)") == "x" * 999 + "\n"

    def test_displays_are_recorded_beside_printed_text(self, tmp_path):
        executor = Executor(tmp_path, None, render=lambda bundle: f"<{bundle['text/plain']}>")
        code = "import sys\nprint('a')\nsys.stdout.display({'text/plain': 'fig'})\nprint('b')"
        assert executor.run(code) == "a\n<fig>b\n"
        assert executor.result(code).events == [["stream", "a\n"],
                                                 ["display", {"text/plain": "fig"}],
                                                 ["stream", "b\n"]]

    def test_execution_off_runs_nothing(self, tmp_path):
        assert Executor(tmp_path, None, execute=False).run("raise SystemExit") == ""


class TestFigures:
    def test_an_explorer_refuses_settings_it_cannot_show(self):
        """Every state computed, one value per control in each, the default among them,
        and no control that repeats a value (a slider with two equal stops)."""
        from snippets.figures import explorer

        def states(values):
            return {(v,): [{"name": "s", "x": [0, 1], "y": [1, 2]}] for v in values}

        def make(values, default=(0,), computed=None, x=None, y=None):
            explorer(controls=[{"name": "depth", "label": "Depth", "values": values}],
                     states=states(values if computed is None else computed),
                     x=x or {"label": "x"}, y=y or {"label": "y"}, default=default,
                     alt="a", caption="c")

        for problem, kwargs in {
            "repeats a value": dict(values=[0, 1, 1]),
            "states have no results": dict(values=[0, 1, 2], computed=[0, 1]),
            "the default state": dict(values=[0, 1], default=(5,)),
            r"2 y values lie outside the y axis \[0, 1.5\], e.g. 2":
                dict(values=[0, 1], y={"label": "y", "domain": [0, 1.5]}),
            r"the x axis \[0, 2\] runs past the data \(0 to 1\)":
                dict(values=[0, 1], x={"label": "x", "domain": [0, 2]}),
            r"the y axis \[1, 4\] runs past the data \(1 to 2\) in every state":
                dict(values=[0, 1], y={"label": "y", "domain": [1, 4]}),
            r"the y axis \[0.01, 2\] runs past the data":      # 2 of 2.3 decades empty
                dict(values=[0, 1], y={"label": "y", "scale": "log", "domain": [0.01, 2]}),
            r"outside the x axis": dict(values=[0, 1], x={"label": "x", "scale": "log",
                                                          "domain": [0.5, 1]}),
            r"the log y axis \[0, 2\] reaches 0": dict(values=[0, 1], y={
                "label": "y", "scale": "log", "domain": [0, 2]}),
        }.items():
            with pytest.raises(ValueError, match=problem):
                make(**kwargs)
        make([0, 1], x={"label": "x", "domain": [0, 1.04]},      # a little room is fine
             y={"label": "y", "scale": "log", "domain": [0.9, 2.2]})
        make([0, 1], y={"label": "y", "domain": [0.8, 2.3]})

    def make(self):
        fig, ax = plt.subplots(figsize=(3, 2))
        ax.plot(np.linspace(0, 1, 50) ** 2, label="$x^2$")
        ax.legend()
        return fig

    def test_svg_is_byte_identical_from_run_to_run(self):
        first = svg_figure(self.make(), alt="a parabola", caption="It curves.")
        assert first == svg_figure(self.make(), alt="a parabola", caption="It curves.")
        svg = base64.b64decode(first.split("base64,")[1].split('"')[0]).decode()
        assert "<svg" in svg and "<dc:date>" not in svg

    def test_alt_text_and_caption_are_required_and_escaped(self):
        with pytest.raises(ValueError, match="alt text"):
            svg_figure(self.make(), alt=" ", caption="c")
        html = svg_figure(self.make(), alt='say "hi" <b>', caption="1 < 2")
        assert 'alt="say &quot;hi&quot; &lt;b&gt;"' in html and "1 &lt; 2" in html

    def test_the_figure_is_closed(self):
        fig = self.make()
        svg_figure(fig, alt="a", caption="c")
        assert not plt.fignum_exists(fig.number)

    def test_a_figure_a_reader_could_not_read_is_refused(self):
        """A label off its panel or over another, a shape leaving the panel, a line whose
        data the axes cut off, a diagram's arrow that points at nothing, a legend over data
        or a label, two arrows drawn as one or crossing, a tick placed outside the axis, a heat
        map that leaves part of its panel blank: each fails the figure, naming what is
        wrong."""
        def fig_with(draw):
            fig, ax = plt.subplots(figsize=(3, 2))
            ax.set_xlim(0, 1)
            ax.set_ylim(0, 1)
            draw(ax)
            return fig

        cases = [
            ("the label 'off' lies outside its axes", lambda ax: ax.text(1.5, 0.5, "off")),
            ("the labels 'one' and 'two' overlap",
                lambda ax: (ax.text(0.5, 0.5, "one"), ax.text(0.52, 0.5, "two"))),
            ("a Circle leaves its axes",
                lambda ax: ax.add_patch(Circle((0.9, 0.5), 0.3))),
            ("the line 'x²' leaves its axes",
                lambda ax: ax.plot([0, 0.5, 1], [0, 0.25, 1.2], label="x²")),
            ("an unlabelled line leaves its axes", lambda ax: ax.plot([0, 1], [-0.5, 0.5])),
            ("an arrow runs through the label 'middle'",
                lambda ax: (ax.text(0.5, 0.5, "middle", ha="center", va="center"),
                            ax.annotate("", xy=(0.9, 0.5), xytext=(0.1, 0.5),
                                        arrowprops={"arrowstyle": "->"}))),
            ("the line 'median' leaves its own band at x = 0.5",
                lambda ax: (ax.plot([0, 0.5, 1], [0.2, 0.6, 0.4], color="C0", label="median"),
                            ax.fill_between([0, 0.5, 1], [0.1, 0.3, 0.3], [0.3, 0.5, 0.5],
                                            color="C0", alpha=0.2))),
            ("an arrow runs into a Circle",
                lambda ax: (ax.add_patch(Circle((0.5, 0.5), 0.2)),
                            ax.add_patch(FancyArrowPatch(
                                (0.05, 0.5), (0.5, 0.5), arrowstyle="->")))),
            ("an arrow ends away from every node and label",   # in a diagram (it has nodes)
                lambda ax: (ax.add_patch(Circle((0.15, 0.5), 0.1)),
                            ax.add_patch(FancyArrowPatch(
                                (0.25, 0.5), (0.6, 0.5), arrowstyle="->")))),
            ("the legend covers the line 'across'",   # no vertex under it: its segment is
                lambda ax: (ax.plot([0, 1], [0.9, 0.9], label="across"),
                            ax.legend(loc="upper center"))),
            ("two arrows are drawn one over the other",     # forward and back, as one
                lambda ax: (ax.add_patch(FancyArrowPatch((0.1, 0.5), (0.9, 0.5),
                                                         arrowstyle="->")),
                            ax.add_patch(FancyArrowPatch((0.9, 0.5), (0.1, 0.5),
                                                         arrowstyle="->")))),
            ("two arrows cross",
                lambda ax: (ax.add_patch(FancyArrowPatch((0.1, 0.2), (0.9, 0.8),
                                                         arrowstyle="->")),
                            ax.add_patch(FancyArrowPatch((0.1, 0.8), (0.9, 0.2),
                                                         arrowstyle="->")))),
            ("two arrows cross",      # one runs through the other and stops just beyond
                lambda ax: (ax.add_patch(FancyArrowPatch((0.1, 0.5), (0.9, 0.5),
                                                         arrowstyle="->")),
                            ax.add_patch(FancyArrowPatch((0.5, 0.9), (0.5, 0.47),
                                                         arrowstyle="->")))),
            ("two arrows are drawn one over the other",    # overlapping over part of them
                lambda ax: (ax.add_patch(FancyArrowPatch((0.1, 0.5), (0.5, 0.5),
                                                         arrowstyle="->")),
                            ax.add_patch(FancyArrowPatch((0.3, 0.5), (0.9, 0.5),
                                                         arrowstyle="->")))),
            ("the x tick 'gone' lies outside the axis range",
                lambda ax: (ax.set_xticks([0.5, 2.0], ["kept", "gone"]), ax.set_xlim(0, 1))),
            ("the x axis (-0.5 to 1) runs past its heat map (0 to 1)",  # a tick beyond
                lambda ax: (ax.imshow([[0, 1], [1, 0]], extent=(0, 1, 0, 1)),   # widens it
                            ax.set_xticks([-0.5, 0.5]))),
            ("the legend covers scatter points",
                lambda ax: (ax.scatter([0.5], [0.5], label="dot"),
                            ax.legend(loc="center"))),
            ("the legend covers the label 'note'",
                lambda ax: (ax.plot([0, 0.1], [0, 0.1], label="l"),
                            ax.text(0.45, 0.5, "note"), ax.legend(loc="center"))),
        ]
        for problem, draw in cases:
            with pytest.raises(ValueError, match=re.escape(problem)):
                svg_figure(fig_with(draw), alt="a", caption="c")
        # what a reader can read passes: apart, inside, and a line let out on purpose
        def fine(ax):
            ax.text(0.1, 0.5, "one")
            ax.text(0.6, 0.5, "two")
            ax.add_patch(Circle((0.5, 0.5), 0.2))
            may_leave_axes(ax.plot([0, 1], [0, 2])[0])
            ax.annotate("from here", xy=(0.5, 0.9), xytext=(0.1, 0.8),   # its own label
                        arrowprops={"arrowstyle": "->"})
            ax.plot([0, 1], [0.5, 0.6], color="C1", label="in")             # inside its band
            ax.fill_between([0, 1], [0.4, 0.5], [0.6, 0.7], color="C1", alpha=0.2)
            ax.add_patch(FancyArrowPatch(  # to the edge
                (0.15, 0.45), (0.3, 0.5), arrowstyle="->"))       # from a label
            for x in (0.7, 0.95):
                ax.add_patch(Circle((x, 0.12), 0.03))
            ax.add_patch(FancyArrowPatch((0.73, 0.15), (0.92, 0.15), arrowstyle="->"))
            ax.add_patch(FancyArrowPatch((0.92, 0.09), (0.73, 0.09), arrowstyle="->"))  # apart
            ax.add_patch(FancyArrowPatch((0.73, 0.12), (0.92, 0.03), arrowstyle="->",  # bowed,
                                         connectionstyle="arc3,rad=0.3"))  # from the same node
            ax.set_xticks([0, 0.5, 1], ["0", "half", "1"])       # ticks at the very ends
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2))   # below the panel
        assert "<figure" in svg_figure(fig_with(fine), alt="a", caption="c")


class TestVendor:
    def fake_tarball(self, files: dict[str, bytes]) -> bytes:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
            for name, data in files.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
        return buffer.getvalue()

    def test_a_tarball_that_fails_the_integrity_check_is_refused(self, tmp_path):
        with pytest.raises(vendor.VendorError, match="integrity"):
            vendor.install(tmp_path, tarball=self.fake_tarball({"package/dist/katex.min.js": b""}))
        assert not vendor.install_dir(tmp_path).exists()

    def test_missing_katex_names_the_install_command(self, tmp_path):
        with pytest.raises(vendor.VendorError, match=r"python -m snippets\.sitebuild\.vendor"):
            vendor.site_files(tmp_path)

    def test_installed_copy_is_complete_and_offline(self):
        """The copy the README command installed: woff2 fonts only, each one present."""
        root = Path(__file__).resolve().parents[1] / ".vendor"
        files = vendor.site_files(root)
        css = files["assets/vendor/katex/katex.min.css"].read_text()
        fonts = set(__import__("re").findall(r"url\(fonts/([\w-]+\.\w+)\)", css))
        assert fonts and all(name.endswith(".woff2") for name in fonts)
        assert all(f"assets/vendor/katex/fonts/{name}" in files for name in fonts)
        names = json.loads((vendor.install_dir(root) / "MANIFEST.json").read_text())
        assert "katex.min.js" in names          # typesets at build time, not served
        # the math is typeset when the site is built: nothing renders it in the browser
        assert not vendor.KATEX.keep.match("package/dist/contrib/auto-render.min.js")


def test_a_block_may_not_import_a_file_its_page_runs(tmp_path):
    write(tmp_path, "pkg/__init__.py", "")
    write(tmp_path, "pkg/page.py", """
        # --8<-- [start:one]
        x = 1
        # --8<-- [end:one]
    """)
    write(tmp_path, "pkg/more.py", """
        # --8<-- [start:two]
        from pkg.page import x
        # --8<-- [end:two]
    """)
    page = ('```python exec="on" session="a"\n--8<-- "pkg/page.py:one"\n```\n\n'
            '```python exec="on" session="a"\n--8<-- "pkg/more.py:two"\n```\n')
    with pytest.raises(FenceError, match=r"p.md:5: section 'two' imports pkg/page.py"):
        scan_page(page, "p.md", tmp_path)


def test_a_session_must_include_a_files_sections_in_file_order(tmp_path):
    write(tmp_path, "s.py", SNIPPET)
    page = ('```python exec="on" session="a"\n--8<-- "s.py:two"\n```\n\n'
            '```python exec="on" session="a"\n--8<-- "s.py:one"\n```\n')
    with pytest.raises(FenceError, match=r"p.md:5: section 'one' comes before section 'two'"):
        scan_page(page, "p.md", tmp_path)
    other_sessions = page.replace('session="a"', 'session="b"', 1)
    assert len(scan_page(other_sessions, "p.md", tmp_path)) == 2


def test_a_long_lived_process_resumes_a_session_from_a_snapshot(tmp_path):
    """Under mkdocs serve an edit to a late block resumes from the variables the blocks
    before it left (deep copies: what a block does later does not leak back), instead of
    replaying them."""
    def page(c_code):
        write(tmp_path, "s.py", f"""
            # --8<-- [start:a]
            log.append("a")
            items = [1, 2]
            # --8<-- [end:a]
            # --8<-- [start:b]
            log.append("b")
            items.append(3)
            print(sum(items))
            # --8<-- [end:b]
            # --8<-- [start:c]
            {c_code}
            # --8<-- [end:c]
        """)
        text = "\n".join(f'```python exec="on" session="s"\n--8<-- "s.py:{n}"\n```'
                         for n in "abc")
        return scan_page(text, "p.md", tmp_path)

    import builtins
    builtins.log = []      # what really ran, seen from inside the blocks
    snapshots: dict = {}
    try:
        first = Executor(tmp_path, tmp_path / "cache", snapshots=snapshots)
        first.execute_page("p.md", page("print(len(items))"))
        assert builtins.log == ["a", "b"] and len(snapshots) == 3
        builtins.log.clear()
        second = Executor(tmp_path, tmp_path / "cache", snapshots=snapshots)
        results = second.execute_page("p.md", page("items.append(4); print(items)"))
        assert builtins.log == [] and second.stats.restored == 1
        assert second.stats.replayed == 0 and second.stats.executed == 1
        assert results[2].events == [["stream", "[1, 2, 3, 4]\n"]]
        third = Executor(tmp_path, tmp_path / "cache", snapshots=snapshots)
        results = third.execute_page("p.md", page("print(items)"))  # the 4 did not leak
        assert results[2].events == [["stream", "[1, 2, 3]\n"]]
    finally:
        del builtins.log


def test_a_failed_block_is_not_replayed_by_later_blocks(tmp_path):
    path = write(tmp_path, "s.py", """
        # --8<-- [start:one]
        x = 1
        # --8<-- [end:one]
        # --8<-- [start:bad]
        y = 1 / 0
        # --8<-- [end:bad]
        # --8<-- [start:three]
        print(x + 1)
        # --8<-- [end:three]
    """)
    names = ["one", "bad", "three"]
    page = "\n".join(f'```python exec="on" session="s"\n--8<-- "s.py:{n}"\n```' for n in names)
    executor = Executor(tmp_path, tmp_path / "cache")
    executor.start_page("p.md", scan_page(page, "p.md", tmp_path))
    executor.run(find_section(path, "one").code, "s")
    with pytest.raises(BlockError, match="ZeroDivisionError"):
        executor.run(find_section(path, "bad").code, "s")
    assert executor.run(find_section(path, "three").code, "s") == "2\n"


def test_the_mutation_sampler_leaves_layout_tables_alone():
    """Each name the sampler takes as layout is assigned in its module (a renamed table
    would silently be mutated again), no number of those assignments is mutated, and the
    same name is still mutated where it is data (x_pos, the exercise's positive inputs)."""
    import ast

    from snippets.sitebuild.mutation import _LAYOUT_NAMES, ROOT, mutants_of

    for rel, names in _LAYOUT_NAMES.items():
        path = ROOT / "snippets" / rel
        tree = ast.parse(path.read_text())
        lines, assigned = set(), set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign):
                targets = {n.id for t in node.targets for n in ast.walk(t)
                           if isinstance(n, ast.Name)}
                if targets & names:
                    assigned |= targets & names
                    lines |= set(range(node.lineno, node.end_lineno + 1))
        assert assigned == names, rel
        assert not [m for m in mutants_of(path) if m.line in lines], rel
    exercise = ROOT / "snippets" / "residual_gradient" / "exercises.py"
    line = next(i for i, text in enumerate(exercise.read_text().split("\n"), start=1)
                if text.startswith("x_pos = "))
    assert [m for m in mutants_of(exercise) if m.line == line]


def test_the_mutation_sampler_edits_results_not_styling(tmp_path):
    from snippets.sitebuild.mutation import mutants_of

    module = tmp_path / "snippets" / "chapter" / "m.py"
    module.parent.mkdir(parents=True)
    module.write_text(textwrap.dedent("""\
        import numpy as np
        W = np.ones((2, 3))
        y = -W.T @ np.ones(2) + 0.5
        ok = y.max() < 3
        print("∇ᵀ:", W.T)
        print(f"{y.sum():.2f}")
        fig, ax = plt.subplots(figsize=(3.5, 3))
        ax.plot(y, lw=2, color="C0")
        ax.text(y[0] + 0.1, -2, "label", color="C1" if y[1] > 0 else "C2")
        ax.add_patch(Circle((1 - 0.5, 2), 0.3, facecolor="C0" if ok else "C1"))
        ax.arrow(0, 0, *W[0, :2])
        """))
    mutants = mutants_of(module, root=tmp_path)
    text = module.read_text()
    edits = {(m.kind, m.apply(text).splitlines()[m.line - 1]) for m in mutants}
    assert edits == {
        ("number", "W = np.ones((3, 3))"), ("number", "W = np.ones((2, 4))"),
        ("minus dropped", "y = W.T @ np.ones(2) + 0.5"),
        ("transpose dropped", "y = -W @ np.ones(2) + 0.5"),
        ("number", "y = -W.T @ np.ones(3) + 0.5"),
        ("number", "y = -W.T @ np.ones(2) + 1.0"),
        ("operator", "y = -W.T @ np.ones(2) - 0.5"),
        ("max/min swapped", "ok = y.min() < 3"),
        ("comparison", "ok = y.max() <= 3"), ("number", "ok = y.max() < 4"),
        ("transpose dropped", 'print("∇ᵀ:", W)'),     # columns in characters, not bytes
        ("comparison", 'ax.text(y[0] + 0.1, -2, "label", color="C1" if y[1] >= 0 else "C2")'),
        ("number", "ax.arrow(0, 0, *W[1, :2])"), ("number", "ax.arrow(0, 0, *W[0, :3])"),
        ("number", "ax.arrow(1, 0, *W[0, :2])"), ("number", "ax.arrow(0, 1, *W[0, :2])"),
    }   # the f-string's format, the figure's sizes and widths, where a label or a shape
    # goes are left alone; what a label's colour says is not, nor Matplotlib's arrow (its
    # length can be a result), which shares a name with the chapters' diagram helper
    assert all(m.path == "snippets/chapter/m.py" for m in mutants)


def test_the_test_server_serves_the_sitemap_for_where_it_serves_the_site(tmp_path):
    """Material's instant navigation takes only links to pages of the sitemap, port and all:
    the browser tests' server names the pages where it serves them, as a published site's
    sitemap does; any other address gets the site's 404 page."""
    from urllib.error import HTTPError
    from urllib.request import urlopen

    from snippets.sitebuild.browser import serve

    published = "https://u.github.io/repo/"
    write(tmp_path, "sitemap.xml", f"<urlset><url><loc>{published}</loc></url>"
                                   f"<url><loc>{published}a/</loc></url></urlset>")
    write(tmp_path, "a/index.html", "page a")
    write(tmp_path, "404.html", "not here")
    with serve(tmp_path) as url:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/repo/", url)
        with urlopen(url + "sitemap.xml") as response:
            sitemap = response.read().decode()
        with urlopen(url + "a/") as response:
            assert response.read() == b"page a"
        with pytest.raises(HTTPError) as missing:
            urlopen(url.replace("/repo/", "/elsewhere/"))
    assert sitemap == f"<urlset><url><loc>{url}</loc></url><url><loc>{url}a/</loc></url></urlset>"
    assert missing.value.code == 404 and missing.value.read() == b"not here"
