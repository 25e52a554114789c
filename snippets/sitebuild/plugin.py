"""The site's MkDocs plugin: cached execution of snippets, fresh imports, local KaTeX, checks.

What it adds to MkDocs + markdown-exec, and why:

* markdown-exec runs every ```` ```python exec="on" ```` fence on every build and has no cache.
  This plugin runs every page's blocks once, before any page is rendered
  (:mod:`snippets.sitebuild.execution`), reusing a block's stored output while its code and the
  project modules it imports are unchanged, and swaps in a runner that hands markdown-exec
  those results. The same results become the companion notebooks' outputs.
* ``mkdocs serve`` keeps one Python process alive, so an edited module would stay stale in
  ``sys.modules``; the project's modules are dropped before every build.
* Each executed fence must include one snippet section (:mod:`snippets.sitebuild.fences`), so
  a failure names the page, the snippet file and the line.
* KaTeX is served from ``vendor_dir`` (installed from the npm registry by
  ``python -m snippets.sitebuild.vendor``); nothing is loaded from a CDN.
* Every ``<img>`` on a page must have alt text and a source that exists.
* Links that snippets print as Markdown (``[text](page.md#anchor)``) bypass MkDocs' own
  link handling; they are rewritten to the target's URL and checked, anchors included.
* Every page gets a meta description: its front matter's, or its first paragraph of plain
  text (:func:`describe`); notebook pages say whose code they hold.
* Every chapter gets a companion notebook (:mod:`snippets.sitebuild.notebooks`), made from
  the page's own outputs, which mkdocs-jupyter renders (it executes nothing); the chapter links
  to it. The notebook a reader downloads installs the site's small library from the site
  (:mod:`snippets.sitebuild.library`), so it runs anywhere. On notebook pages the empty
  MathJax tag of nbconvert is removed (KaTeX renders their math), their 600 KB of inlined
  CSS becomes one shared stylesheet with the rules no page can match left out
  (:mod:`snippets.sitebuild.css`), and they stay out of the search index.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import os
import posixpath
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

import markdown_exec
import nbformat
import threadpoolctl
from mkdocs.config import config_options as opt
from mkdocs.config.base import Config
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, CombinedEvent, event_priority
from mkdocs.structure.files import File, Files

from snippets.bp.memory import keep_freed_memory
from snippets.sitebuild import vendor
from snippets.sitebuild.css import classes_in, purge
from snippets.sitebuild.execution import (
    BlockError,
    Executor,
    default_workers,
    module_files,
    plain_render,
)
from snippets.sitebuild.fences import FenceError, scan_page
from snippets.sitebuild.library import build_wheel, wheel_name
from snippets.sitebuild.mathrender import MathRenderer
from snippets.sitebuild.notebooks import (
    chapter_notebook,
    install_cell,
    prerender,
    write_if_changed,
)
from snippets.sitebuild.presentation import (
    number_equations,
    number_references,
    plain_tex,
    spelling_variants,
)

log = logging.getLogger("mkdocs.plugins.backprop")
PLUGIN_DIR = Path(__file__).resolve().parent


class BackpropSiteConfig(Config):
    execute = opt.Type(bool, default=True)
    """Run the snippets. Off, pages show code with no output (a benchmark baseline)."""
    cache = opt.Type(bool, default=True)
    """Reuse stored outputs of unchanged blocks."""
    cache_dir = opt.Type(str, default=".cache/exec")
    """Where outputs are stored, relative to mkdocs.yml."""
    vendor_dir = opt.Optional(opt.Type(str))
    """Where ``python -m snippets.sitebuild.vendor`` put KaTeX; unset for a site without math."""
    timeout = opt.Type((int, float), default=60)
    """Seconds one block may run before it is stopped and the build fails (0: no limit)."""
    max_output = opt.Type(int, default=200_000)
    """Characters one block may print before it is stopped and the build fails."""
    notebooks = opt.Type(bool, default=False)
    """Generate a companion notebook per chapter (shown by mkdocs-jupyter, downloadable)."""
    no_notebook = opt.ListOfItems(opt.Type(str), default=[])
    """Pages with executed code that are not chapters (the errata), so get no notebook."""
    descriptions = opt.Type(bool, default=False)
    """Give a page without a front-matter ``description`` its first plain paragraph as the
    meta description; warn (fatal under --strict) when it has none."""


# Highlighted code and converted output by content (see _format_python), for the life of the
# process; the salt changes when the way they are made changes.
_HTML: dict[str, str] = {}
_HTML_SALT = "3"

# Kept for the life of the process: `mkdocs serve` loads the configuration, and so makes a new
# plugin, for every rebuild. A snapshot of a session's variables after each block lets an edit
# to a later block resume instead of replaying the session (Executor._restore).
_SNAPSHOTS: dict = {}
_serving = False


class BackpropSitePlugin(BasePlugin[BackpropSiteConfig]):
    def on_startup(self, *, command: str, dirty: bool) -> None:
        global _serving
        _serving = command == "serve"

    math: MathRenderer | None = None   # kept across the rebuilds of `mkdocs serve`

    def on_config(self, config: Any) -> Any:
        self.root = Path(config.config_file_path).resolve().parent
        if str(self.root) not in sys.path:
            sys.path.insert(0, str(self.root))  # pages import the project's own packages
        # Figures are rendered to SVG strings; never open a GUI window from a build.
        os.environ.setdefault("MPLBACKEND", "agg")
        keep_freed_memory()  # chapters sweep deep networks: half their time was page faults
        # One BLAS thread. The chapters multiply small matrices, where a second thread only
        # spins: a cold build took 31.8 s with two threads and 29.1 s with one, using 46.5 s
        # and 31.0 s of CPU, and beside other busy processes the spinning thread fights them.
        self.blas_limit = threadpoolctl.threadpool_limits(limits=1, user_api="blas")
        _set_source_date_epoch(self.root)
        # `--8<--` paths are relative to the project, whatever the working directory.
        snippets_cfg = config.mdx_configs.setdefault("pymdownx.snippets", {})
        snippets_cfg["base_path"] = [str(self.root)]
        snippets_cfg["check_paths"] = True

        self.cache_dir = self.root / self.config.cache_dir if self.config.cache else None
        # Beside the snippet cache (.cache/exec by default): the generated notebooks, and the
        # highlighted HTML and typeset math kept by content. Two builds given two cache_dirs
        # share nothing.
        self.work_dir = (self.root / self.config.cache_dir).parent
        # What a block's highlighted HTML depends on besides its text: the Markdown
        # extensions' configuration and the versions of what renders it.
        from importlib import metadata
        versions = [metadata.version(d) for d in ("markdown", "pymdown-extensions", "pygments",
                                                  "markdown-exec")]
        self.markdown_digest = hashlib.sha256(json.dumps(
            [config.markdown_extensions, config.mdx_configs, versions], sort_keys=True,
            default=str).encode()).hexdigest()
        self.timeout = float(os.environ.get("BP_EXEC_TIMEOUT") or self.config.timeout) or None
        self.workers = default_workers()
        formatter = self._format_python
        markdown_exec.formatters["python"] = markdown_exec.formatters["py"] = formatter

        if self.config.notebooks:
            # Two INFO lines per notebook on every build ("Cache hit", "Copied"): keep the
            # build log to what needs reading.
            logging.getLogger("mkdocs.plugins.mkdocs_jupyter").setLevel(logging.WARNING)
        self.vendor_files: dict[str, Path] = {}
        if self.config.vendor_dir is not None:
            vendor_root = self.root / self.config.vendor_dir
            try:
                self.vendor_files = vendor.site_files(vendor_root)
                katex = vendor.katex_script(vendor_root)
            except vendor.VendorError as error:
                raise PluginError(str(error)) from None
            math_cache = self.work_dir / "math" if self.config.cache else None
            if self.math is None or self.math.katex_js != katex:
                self.math = MathRenderer(katex, math_cache)
        return config

    def on_pre_build(self, *, config: Any) -> None:
        _forget_project_modules(self.root)
        # The figure helper renders what blocks display; imported afresh, like the blocks'.
        self.figures = importlib.import_module("snippets.figures")
        self.executor = Executor(self.root, self.cache_dir, execute=self.config.execute,
                                 timeout=self.timeout, max_output=self.config.max_output,
                                 render=self._render_display,
                                 snapshots=_SNAPSHOTS if _serving else None)
        self.printed_anchors: list[tuple[str, File, str]] = []
        self.page_url = ""
        self.html_keys: set[str] = set()
        self.notebook_css: dict[str, str] = {}
        self.notebook_classes: set[str] = set()

    def on_files(self, files: Files, *, config: Any) -> Files:
        for uri, path in self.vendor_files.items():
            files.append(File.generated(config, uri, abs_src_path=str(path)))
        # Every block of every page runs here, once, before any page is rendered: the pages
        # and the notebooks are both made from these results.
        self.fences: dict[str, list] = {}
        for file in list(files.documentation_pages()):
            try:
                fences = scan_page(file.content_string, file.src_uri, self.root)
            except FenceError:
                continue  # the page itself reports the error when it is rendered
            if fences:
                self.fences[file.src_uri] = fences
        self.executor.execute_pages(self.fences, workers=self.workers)
        self._add_figures(files, config)
        self.equation_numbers = {file.src_uri: number_equations(file.content_string)[1]
                                 for file in files.documentation_pages()
                                 if file.src_uri.endswith(".md")}
        self.notebook_of: dict[str, str] = {}  # chapter src_uri -> notebook src_uri
        self.download_of: dict[str, str] = {}   # notebook page src_uri -> download uri
        if self.config.notebooks:
            self._add_library(files, config)
            for file in list(files.documentation_pages()):
                if file.src_uri in self.fences and file.src_uri not in self.config.no_notebook:
                    self._add_notebook(file, files, config)
            made = {self.work_dir / uri for uri in self.notebook_of.values()}
            for stale in (self.work_dir / "notebooks").glob("*.ipynb"):
                if stale not in made:
                    stale.unlink()
            jupyter = config.plugins.get("mkdocs-jupyter")
            if jupyter is not None:
                prerender(sorted(made), jupyter.config, workers=self.workers)
        return files

    def _add_figures(self, files: Files, config: Any) -> None:
        """Number every figure (interactive ones too) in page order and name its anchor after
        the snippet section that draws it (``fig-sweep-plot``); write each panel, in both
        palettes, as an SVG file named by its content (the browser caches it, and a chapter
        and its notebook page share it), and each interactive figure's definition and data
        as a JSON file its script fetches when the figure comes into view."""
        self.figure_info: dict[int, dict] = {}     # id(record) -> anchor, number, files
        self.figure_numbers: dict[str, dict[str, int]] = {}   # page -> {anchor: number}
        written: set[str] = set()

        def write(uri: str, content: str) -> str:
            if uri not in written:
                written.add(uri)
                files.append(File.generated(config, uri, content=content))
            return uri

        figure_mime, explorer_mime = self.figures.FIGURE_MIME, self.figures.EXPLORER_MIME
        for page, prepared in self.executor.prepared.items():
            numbers = self.figure_numbers.setdefault(page, {})
            for fence, result in prepared:
                shown = [data for kind, data in result.events if kind == "display"
                         and (figure_mime in data or explorer_mime in data)]
                for k, data in enumerate(shown, start=1):
                    anchor = "fig-" + fence.section.name.replace("_", "-")
                    anchor += f"-{k}" if len(shown) > 1 else ""
                    numbers[anchor] = len(numbers) + 1
                    explorer = data.get(explorer_mime)
                    record = explorer["static"] if explorer else data[figure_mime]
                    uris = []
                    for panel in record["panels"]:
                        pair = []
                        for svg in (panel["svg"], self.figures.dark_svg(panel["svg"])):
                            digest = hashlib.sha256(svg.encode()).hexdigest()[:16]
                            pair.append(write(f"assets/figures/{digest}.svg", svg))
                        uris.append(tuple(pair))
                    info = {"anchor": anchor, "number": numbers[anchor], "uris": uris}
                    if explorer:
                        text = explorer["definition"]
                        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
                        info["explorer"] = write(f"assets/explorers/{digest}.json", text)
                    self.figure_info[id(record)] = info

    def _add_library(self, files: Files, config: Any) -> None:
        """The project modules the chapters import, as a wheel the notebooks install."""
        modules: set[Path] = set()
        for page, fences in self.fences.items():
            for fence in fences if page not in self.config.no_notebook else []:
                modules |= module_files(fence.section.code, self.root,
                                        importer=fence.section.path)
        uri = f"assets/python/{wheel_name(self.root)}"
        files.append(File.generated(config, uri, content=build_wheel(self.root, modules)))
        self.wheel_url = config.site_url.rstrip("/") + "/" + uri if config.site_url else uri

    def _add_notebook(self, file: File, files: Files, config: Any) -> None:
        markdown = file.content_string
        fences = self.fences[file.src_uri]
        results = [result for _, result in self.executor.prepared[file.src_uri]]
        stem = PurePosixPath(file.src_uri).stem
        uri = f"notebooks/{stem}.ipynb"
        # What the notebook page shows: the page's own figures.
        page_url = f"notebooks/{stem}/"
        shown = chapter_notebook(markdown, file.src_uri, fences, results,
                                 display=lambda bundle: self._notebook_page_display(bundle,
                                                                                    page_url))
        write_if_changed(shown, self.work_dir / uri)
        # A plain File rooted in .cache, not File.generated: mkdocs-jupyter wraps files in a
        # class that forwards attributes, and loses a generated file's stored source path.
        files.append(File(uri, src_dir=str(self.work_dir), dest_dir=config.site_dir,
                          use_directory_urls=config.use_directory_urls))
        self.notebook_of[file.src_uri] = uri
        # What a reader downloads: figures as Jupyter shows them, and a first cell that
        # installs the library from the site.
        download = chapter_notebook(markdown, file.src_uri, fences, results,
                                    display=self._download_display,
                                    install=install_cell(self.wheel_url))
        download_uri = f"notebooks/{stem}/{stem}.ipynb"
        files.append(File.generated(config, download_uri,
                                    content=nbformat.v4.writes_json(download)))
        self.download_of[uri] = download_uri

    def _render_display(self, bundle: dict, page_url: str | None = None) -> str:
        """A display event as the HTML of the page at ``page_url`` (default: the page being
        rendered): figures point to their files and carry their numbers; tables are tables."""
        if self.figures.TABLE_MIME in bundle:
            return self.figures.table_html(bundle[self.figures.TABLE_MIME])
        explorer = bundle.get(self.figures.EXPLORER_MIME)
        record = explorer["static"] if explorer else bundle.get(self.figures.FIGURE_MIME)
        if record is None:
            return plain_render(bundle)
        page_url = self.page_url if page_url is None else page_url
        base = page_url if page_url.endswith("/") else posixpath.dirname(page_url)
        info = self.figure_info[id(record)]
        srcs = [tuple(posixpath.relpath(uri, base or ".") for uri in pair)
                for pair in info["uris"]]
        live = None
        if explorer and not page_url.startswith("notebooks/"):   # notebook pages: static
            live = posixpath.relpath(info["explorer"], base or ".")
        return self.figures.site_html(record, srcs, number=info["number"],
                                      anchor=info["anchor"], explorer=live)

    def _notebook_page_display(self, bundle: dict, page_url: str) -> dict:
        if self.figures.TABLE_MIME in bundle:
            return {"text/html": self._render_display(bundle, page_url)}
        explorer = bundle.get(self.figures.EXPLORER_MIME)
        record = explorer["static"] if explorer else bundle.get(self.figures.FIGURE_MIME)
        if record is None:
            return bundle
        return {"text/html": self._render_display(bundle, page_url),
                "text/plain": "\n".join(p["alt"] for p in record["panels"])}

    def _download_display(self, bundle: dict) -> dict:
        """A display event as Jupyter shows it (what the same code displays in a kernel)."""
        if self.figures.TABLE_MIME in bundle:
            record = bundle[self.figures.TABLE_MIME]
            return {"text/html": self.figures.table_html(record),
                    "text/plain": self.figures.table_text(record)}
        explorer = bundle.get(self.figures.EXPLORER_MIME)
        record = explorer["static"] if explorer else bundle.get(self.figures.FIGURE_MIME)
        return self.figures.notebook_bundle(record) if record else bundle

    def on_page_markdown(self, markdown: str, *, page: Any, config: Any, files: Files) -> str:
        try:
            fences = scan_page(markdown, page.file.src_uri, self.root)
        except FenceError as error:
            raise PluginError(str(error)) from None
        self.executor.start_page(page.file.src_uri, fences)  # results: see on_files
        self.page_url = page.url
        self.page_fences = list(fences)
        markdown, _ = number_equations(markdown)
        notebook = self.notebook_of.get(page.file.src_uri)
        if notebook:
            target = posixpath.relpath(notebook, posixpath.dirname(page.file.src_uri) or ".")
            link = ("*Companion notebook:* [this chapter's code, executed, to read or "
                    f"download]({target})")
            markdown = re.sub(r"^(# .+\n)", rf"\1\n{link}\n", markdown, count=1, flags=re.M)
        return markdown

    def on_page_content(self, html: str, *, page: Any, config: Any, files: Files) -> str:
        if page.file.src_uri in self.notebook_of.values():
            html = self._notebook_page(html, page)
        elif self.config.descriptions and not page.meta.get("description"):
            page.meta["description"] = describe(html)
            if not page.meta["description"]:
                log.warning(f"Doc file '{page.file.src_uri}' has no paragraph of plain text "
                            "to describe it: give it a 'description' in its front matter")
        for problem in _image_problems(html, page.file.src_uri, page.url, files):
            log.warning(problem)
        html, anchors = _rewrite_md_links(html, page, files)
        self.printed_anchors += anchors
        # Figures come from snippet output, which MkDocs does not search for anchors.
        if page.present_anchor_ids is not None:
            page.present_anchor_ids |= set(self.figure_numbers.get(page.file.src_uri, {}))
        html, missing = number_references(html, lambda href, anchor:
                                          self._number_of(page, href, anchor, files))
        if not self.config.execute:   # nothing was drawn: references to figures cannot hold
            missing = [m for m in missing if "#fig-" not in m]
            if page.present_anchor_ids is not None:
                page.present_anchor_ids |= set(re.findall(r'href="#(fig-[\w-]+)"', html))
        for target in missing:
            log.warning(f"Doc file '{page.file.src_uri}' refers to '{target}', but there is "
                        "no such figure or equation")
        # No TeX where it cannot be typeset: the title bar, navigation, table of contents.
        if page.title:
            page.title = plain_tex(page.title)
        _plain_toc(page.toc)
        return html

    def _number_of(self, page: Any, href: str, anchor: str, files: Files) -> int | None:
        """The number of figure or equation ``anchor`` on the page ``href`` points to."""
        src = page.file.src_uri
        if href:
            base = page.url if page.url.endswith("/") else posixpath.dirname(page.url)
            url = posixpath.normpath(posixpath.join(base, href))
            url = "" if url == "." else url.rstrip("/") + "/"
            target = next((f for f in files.documentation_pages()
                           if f.url.rstrip("/") + "/" == url or f.url == url), None)
            if target is None:
                return None
            src = target.src_uri
        table = self.figure_numbers if anchor.startswith("fig-") else self.equation_numbers
        return table.get(src, {}).get(anchor)

    def _notebook_page(self, html: str, page: Any) -> str:
        page.meta["search"] = {"exclude": True}  # its text is the chapter's, indexed there
        chapter = next(c for c, nb in self.notebook_of.items() if nb == page.file.src_uri)
        title = page.title or chapter
        page.meta["description"] = (f"{title}: the chapter's code as a Jupyter notebook, "
                                    "executed cell by cell, to read or download.")
        if page.edit_url:  # the notebook is generated: what a reader can edit is the chapter
            page.edit_url = page.edit_url.removesuffix(page.file.src_uri) + chapter
        html = _MATHJAX.sub("", html)
        # Code cells scroll sideways: make them reachable from the keyboard (axe-core).
        html = html.replace('<div class="highlight-ipynb',
                            '<div tabindex="0" class="highlight-ipynb')
        css = "\n".join(_STYLE.findall(html))
        name = f"assets/notebooks/notebook-{hashlib.sha256(css.encode()).hexdigest()[:12]}.css"
        self.notebook_css[name] = css
        base = page.url if page.url.endswith("/") else posixpath.dirname(page.url)
        href = posixpath.relpath(name, base or ".")
        # The notebook a reader downloads (see _add_notebook), beside the page.
        target = self.download_of[page.file.src_uri]
        notebook = posixpath.relpath(target, base or ".")
        download = (f'<p><a class="md-button" href="{notebook}" download>Download the notebook '
                    f"({PurePosixPath(target).name})</a></p>")
        return f'<link rel="stylesheet" href="{href}">\n{download}\n' + _STYLE.sub("", html)

    def on_env(self, env: Any, *, config: Any, files: Files) -> Any:
        # Every page has been rendered now, so every page's headings are known.
        for page, target, anchor in self.printed_anchors:
            content = target.page.content if target.page else ""
            if f'id="{anchor}"' not in (content or ""):
                log.warning(f"Doc file '{page}' contains a link to '{target.src_uri}#{anchor}' "
                            f"in snippet output, but that page has no anchor '#{anchor}'")
        return env

    def on_post_page(self, output: str, *, page: Any, config: Any) -> str:
        if page.file.src_uri in self.notebook_of.values():
            self.notebook_classes |= classes_in(output)
        return output

    def on_post_build(self, *, config: Any) -> None:
        if self.math is not None:
            self.math.save()
        _plain_search_index(Path(config.site_dir) / "search" / "search_index.json")
        for name, css in self.notebook_css.items():
            target = Path(config.site_dir) / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(purge(css, frozenset(self.notebook_classes)), encoding="utf-8")
        stats = self.executor.stats
        # A build that ran nothing used no stored output, but must not delete them.
        pruned = self.executor.prune() if self.config.execute else 0
        self.executor.save_timings()
        log.info(
            "snippet blocks: %d executed, %d from cache, %d replayed for sessions%s; "
            "%d stale cache entries removed",
            stats.executed, stats.cached, stats.replayed,
            f", {stats.restored} sessions resumed" if stats.restored else "", pruned,
        )
        for key in [k for k in _SNAPSHOTS if k not in self.executor.keys_seen]:
            del _SNAPSHOTS[key]   # only what this build's blocks can resume from
        html_dir = self.work_dir / "html"
        if self.config.cache and self.config.execute and html_dir.is_dir():
            for path in html_dir.glob("*.html"):
                if path.stem not in self.html_keys:
                    path.unlink()
        if os.environ.get("BP_EXEC_TIMINGS"):  # for snippets/sitebuild/benchmark.py
            Path(os.environ["BP_EXEC_TIMINGS"]).write_text(
                json.dumps({"pages": stats.seconds, "blocks": stats.blocks}))

    def _format_python(self, **kwargs: Any) -> str:
        """A block as the page shows it: its code (visible, or folded with ``source="folded"``,
        for set-up and plotting code), then its output, marked as output.

        Highlighting code is most of what rendering a page costs, and the same code and the
        same printed output highlight the same way: both are kept, by content, in
        ``.cache/html`` and in the memory of ``mkdocs serve``."""
        code, session = kwargs["code"], kwargs.get("session") or ""
        fence = next((f for f in self.page_fences if f.session == session
                      and f.section.code.strip("\n") == code.strip("\n")), None)
        if fence is not None:
            self.page_fences.remove(fence)
        source = kwargs.pop("source", "")
        shown = ""
        if source:
            shown = self._converted("code", code, lambda: markdown_exec.base_format(
                language="python", run=lambda *args, **extra: "",
                **{**kwargs, "source": "above", "html": False, "result": ""}))
            if source == "folded":
                where = (f"{fence.section.path.name}, {fence.section.name}" if fence
                         else "code")
                # Not in the search index: set-up and plotting code is not what readers
                # search for, and it was half of the index every page loads.
                shown = (f'{_NOINDEX_START}<details class="bp-code">'
                         f'<summary>Code <span class="bp-where">({where})</span></summary>\n'
                         f'{shown}\n</details>{_NOINDEX_END}')
        try:
            text = self.executor.run(code, session)       # the result on_files computed
        except BlockError as error:
            # markdown-exec logs a WARNING (fatal under --strict) and shows this on the page,
            # so `mkdocs serve` keeps serving and the page recovers once the snippet is fixed.
            message = str(error)

            def failed(*args: Any, **extra: Any) -> str:
                raise markdown_exec.ExecutionError(message)
            output = str(markdown_exec.base_format(language="python", run=failed, **kwargs))
        else:
            if kwargs.get("html") or not text:
                output = text
            else:        # printed text, or Markdown, which links relative to its page
                where = "" if kwargs.get("result") else self.page_url
                output = self._converted(f"output {kwargs.get('result')} {where}", text,
                                         lambda: markdown_exec.base_format(
                                             language="python",
                                             run=lambda *args, **extra: text, **kwargs))
        if output.strip():
            # Printed output stays out of the search index; figures and tables (captions,
            # headers) go in.
            output = (f'<div class="bp-output-html">{output}</div>' if kwargs.get("html") else
                      f'{_NOINDEX_START}<div class="bp-output">'
                      f'{output}</div>{_NOINDEX_END}')
        return shown + output

    # Folded code and printed output stay out of the search index: around the search plugin's
    # on_page_context (priority 0) the page holds only what it should index. (Marking them
    # data-search-exclude did the same, but the plugin still parsed them, a span per
    # highlighted token: most of its time.)
    @event_priority(100)
    def _before_search(self, context: Any, *, page: Any, config: Any, nav: Any) -> Any:
        self._full_content = None
        if page.content and _NOINDEX_START in page.content:
            self._full_content = page.content.replace(_NOINDEX_START, "").replace(
                _NOINDEX_END, "")
            page.content = _NOINDEX.sub("", page.content)
        return context

    @event_priority(-100)
    def _after_search(self, context: Any, *, page: Any, config: Any, nav: Any) -> Any:
        if self._full_content is not None:
            page.content, self._full_content = self._full_content, None
        # Math typeset here, after search has read its TeX (which the index keeps as text).
        if self.math is not None and page.content:
            page.content, errors = self.math.page(
                page.content, notebook=page.file.src_uri in self.notebook_of.values())
            for error in errors:
                log.warning(f"Doc file '{page.file.src_uri}': KaTeX cannot typeset: {error}")
        return context

    on_page_context = CombinedEvent(_before_search, _after_search)

    def _converted(self, kind: str, text: str, convert) -> str:
        """``convert()`` as a plain string, kept by the digest of what it depends on."""
        key = hashlib.sha256("\0".join([_HTML_SALT, self.markdown_digest, kind, text])
                             .encode()).hexdigest()
        if key in _HTML:
            return _HTML[key]
        path = self.work_dir / "html" / f"{key}.html"
        html = None
        if self.config.cache and path.is_file():
            # The first line is the digest of the rest: an entry damaged or edited on disk
            # is made again, never served.
            digest, _, stored = path.read_text(encoding="utf-8").partition("\n")
            if hashlib.sha256(stored.encode()).hexdigest() == digest:
                html = stored
            else:
                log.info(f"backprop-site: {path.name} in .cache/html was damaged; made again")
        if html is None:
            html = str(convert())    # plain strings: Markup + str would escape the str
            if self.config.cache:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_text(hashlib.sha256(html.encode()).hexdigest() + "\n" + html,
                               encoding="utf-8")
                tmp.replace(path)
        _HTML[key] = html
        self.html_keys.add(key)
        return html


_NOINDEX_START, _NOINDEX_END = "<!--bp-noindex-->", "<!--/bp-noindex-->"
_NOINDEX = re.compile(f"{_NOINDEX_START}.*?{_NOINDEX_END}", re.S)
_MATHJAX = re.compile(r'<!-- Load mathjax -->\s*<script src=""> </script>\s*'
                      r'<!-- MathJax configuration -->\s*<script type="text/x-mathjax-config">'
                      r'.*?</script>', re.S)
_STYLE = re.compile(r"<style[^>]*>(.*?)</style>", re.S)
def _set_source_date_epoch(root: Path) -> None:
    """Date the build by the last commit, so that one commit always gives one site
    (MkDocs writes the date into sitemap.xml)."""
    if "SOURCE_DATE_EPOCH" in os.environ:
        return
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "log", "-1", "--format=%ct"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return
    if out.isdigit():
        os.environ["SOURCE_DATE_EPOCH"] = out


def _plain_toc(items) -> None:
    for item in items or []:
        item.title = plain_tex(item.title)
        _plain_toc(item.children)


def _plain_search_index(path: Path) -> None:
    """Search results show titles and text: no TeX in them, and the American spelling of
    each British word hidden beside the text, so that either spelling finds it."""
    if not path.is_file():
        return
    index = json.loads(path.read_text(encoding="utf-8"))
    for doc in index.get("docs", []):
        doc["title"] = plain_tex(doc["title"])
        doc["text"] = plain_tex(doc["text"])
        variants = spelling_variants(doc["title"] + " " + doc["text"])
        if variants:
            doc["text"] += f'<span class="bp-spelling" hidden>{" ".join(variants)}</span>'
    path.write_text(json.dumps(index, ensure_ascii=False, separators=(",", ":")),
                    encoding="utf-8")


def _forget_project_modules(root: Path) -> None:
    """Drop the project's modules (not this plugin's) so that the next import reads the
    files as they are now. A project module is one imported from the project root itself
    (``snippets.bp`` from ``root/snippets``), not from a virtualenv that happens to live there."""
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        top = root / name.partition(".")[0]
        if not file or not (top.is_dir() or top.with_suffix(".py").is_file()):
            continue
        path = Path(file).resolve()
        if path.is_relative_to(root) and not path.is_relative_to(PLUGIN_DIR):
            del sys.modules[name]


_MD_LINK = re.compile(r'href="(?![a-z][a-z0-9+.-]*:|/|#)([^"#]+\.md)(?:#([^"]*))?"')


def _rewrite_md_links(html: str, page: Any, files: Files) -> tuple[str, list]:
    """Rewrite href="other.md#anchor" (relative to the page's source) to the target's URL
    relative to the page; warn if the file is missing; return the anchors to check."""
    anchors = []

    def rewrite(match: re.Match) -> str:
        src = posixpath.normpath(posixpath.join(posixpath.dirname(page.file.src_uri),
                                                unquote(match[1])))
        target = files.get_file_from_path(src)
        if target is None:
            log.warning(f"Doc file '{page.file.src_uri}' contains a link '{match[1]}' in "
                        "snippet output, but the target is not found among documentation files")
            return match[0]
        if match[2]:
            anchors.append((page.file.src_uri, target, match[2]))
        url = target.url_relative_to(page.file) + (f"#{match[2]}" if match[2] else "")
        return f'href="{url}"'

    return _MD_LINK.sub(rewrite, html), anchors


class _Paragraphs(HTMLParser):
    """The plain text of each top-level <p>, and whether it holds math or a link only."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[tuple[str, bool]] = []
        self._text: list[str] | None = None
        self._math = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "p" and self._text is None:
            self._text, self._math = [], False
        elif self._text is not None and "arithmatex" in (dict(attrs).get("class") or ""):
            self._math = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "p" and self._text is not None:
            self.paragraphs.append((" ".join("".join(self._text).split()), self._math))
            self._text = None

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)


def describe(html: str, limit: int = 170) -> str:
    r"""A page's meta description: its first paragraph without math (TeX means nothing in a
    search result), cut at the last sentence, or else word, that fits in ``limit`` characters.

    >>> describe('<p><em>Companion notebook:</em> <a href="x">code</a></p>'
    ...          '<p>We take <span class="arithmatex">\\(x\\)</span>.</p>'
    ...          '<p>Deep nets &amp; their gradients. A second sentence.</p>', limit=40)
    'Deep nets & their gradients.'
    >>> describe('<p>' + 'word ' * 50 + '</p>', limit=22)
    'word word word word…'
    """
    parser = _Paragraphs()
    parser.feed(html)
    for text, has_math in parser.paragraphs:
        if has_math or text.startswith("Companion notebook:") or len(text) < 40:
            continue
        if len(text) <= limit:
            return text
        cut = text[:limit]
        sentence = cut.rfind(". ")
        if sentence > limit // 2:
            return cut[:sentence + 1]
        return cut[:cut.rfind(" ")].rstrip(",;:") + "…"
    return ""


_IMG_TAG = re.compile(r"<img\b[^>]*>", re.I)


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.images.append(dict(attrs))


def _image_problems(html: str, page: str, page_url: str, files: Files) -> list[str]:
    """A figure must have alt text and a source that exists (a data: URI or a site file).

    Relative sources are resolved against the page's URL, as the browser will resolve them.
    """
    parser = _Images()
    for tag in _IMG_TAG.findall(html):  # parse the image tags only: pages hold many tags
        parser.feed(tag)
    parser.close()
    problems = []
    for attrs in parser.images:
        src = (attrs.get("src") or "").strip()
        alt = (attrs.get("alt") or "").strip()
        shown = src if len(src) < 80 else src[:77] + "..."
        if not alt:
            problems.append(f"Doc file '{page}': image '{shown}' has no alt text")
        if not src or src == "data:" or (src.startswith("data:") and "," not in src):
            problems.append(f"Doc file '{page}': a figure has an empty source (missing figure)")
            continue
        url = urlsplit(src)
        if url.scheme or url.netloc or src.startswith("data:"):
            continue  # off-site URLs are refused by the offline test, not here
        base = page_url if page_url.endswith("/") else posixpath.dirname(page_url)
        target = posixpath.normpath(posixpath.join(base, unquote(url.path)))
        if target not in {f.url for f in files}:
            problems.append(f"Doc file '{page}': figure '{shown}' is not among the site's files")
    return problems
