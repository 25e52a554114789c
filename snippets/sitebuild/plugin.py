"""The site's MkDocs plugin: cached execution of snippets, fresh imports, local KaTeX, checks.

What it adds to MkDocs + markdown-exec, and why:

* markdown-exec runs every ```` ```python exec="on" ```` fence on every build and has no cache.
  This plugin swaps in a runner (:mod:`snippets.sitebuild.execution`) that reuses a block's
  stored output while its code and the project modules it imports are unchanged.
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
* Every chapter gets a companion notebook (:mod:`snippets.sitebuild.notebooks`), which
  mkdocs-jupyter executes and renders; the chapter links to it. On notebook pages the empty
  MathJax tag of nbconvert is removed (KaTeX renders their math), their 600 KB of inlined
  CSS becomes one shared stylesheet with the rules no page can match left out
  (:mod:`snippets.sitebuild.css`), and they stay out of the search index.
"""

from __future__ import annotations

import hashlib
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
from mkdocs.config import config_options as opt
from mkdocs.config.base import Config
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import File, Files

from snippets.bp.memory import keep_freed_memory
from snippets.sitebuild import vendor
from snippets.sitebuild.css import classes_in, purge
from snippets.sitebuild.execution import BlockError, Executor
from snippets.sitebuild.fences import FenceError, scan_page
from snippets.sitebuild.notebooks import chapter_notebook, write_if_changed

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
    notebooks = opt.Type(bool, default=False)
    """Generate a companion notebook per chapter (executed and shown by mkdocs-jupyter)."""
    no_notebook = opt.ListOfItems(opt.Type(str), default=[])
    """Pages with executed code that are not chapters (the errata), so get no notebook."""
    descriptions = opt.Type(bool, default=False)
    """Give a page without a front-matter ``description`` its first plain paragraph as the
    meta description; warn (fatal under --strict) when it has none."""


class BackpropSitePlugin(BasePlugin[BackpropSiteConfig]):
    def on_config(self, config: Any) -> Any:
        self.root = Path(config.config_file_path).resolve().parent
        if str(self.root) not in sys.path:
            sys.path.insert(0, str(self.root))  # pages import the project's own packages
        # Figures are rendered to SVG strings; never open a GUI window from a build.
        os.environ.setdefault("MPLBACKEND", "agg")
        keep_freed_memory()  # chapters sweep deep networks: half their time was page faults
        _set_source_date_epoch(self.root)
        # `--8<--` paths are relative to the project, whatever the working directory.
        snippets_cfg = config.mdx_configs.setdefault("pymdownx.snippets", {})
        snippets_cfg["base_path"] = [str(self.root)]
        snippets_cfg["check_paths"] = True

        cache_dir = self.root / self.config.cache_dir if self.config.cache else None
        self.executor = Executor(self.root, cache_dir, execute=self.config.execute)
        formatter = self._format_python
        markdown_exec.formatters["python"] = markdown_exec.formatters["py"] = formatter

        if self.config.notebooks:
            _install_build_kernel(self.root)
            # Two INFO lines per notebook on every build ("Cache hit", "Copied"): keep the
            # build log to what needs reading.
            logging.getLogger("mkdocs.plugins.mkdocs_jupyter").setLevel(logging.WARNING)
        self.vendor_files: dict[str, Path] = {}
        if self.config.vendor_dir is not None:
            vendor_root = self.root / self.config.vendor_dir
            try:
                self.vendor_files = vendor.site_files(vendor_root)
            except vendor.VendorError as error:
                raise PluginError(str(error)) from None
        return config

    def on_pre_build(self, *, config: Any) -> None:
        _forget_project_modules(self.root)
        self.printed_anchors: list[tuple[str, File, str]] = []
        self.notebook_css: dict[str, str] = {}
        self.notebook_classes: set[str] = set()

    def on_files(self, files: Files, *, config: Any) -> Files:
        for uri, path in self.vendor_files.items():
            files.append(File.generated(config, uri, abs_src_path=str(path)))
        self.notebook_of: dict[str, str] = {}  # chapter src_uri -> notebook src_uri
        if self.config.notebooks:
            for file in list(files.documentation_pages()):
                if file.src_uri not in self.config.no_notebook:
                    self._add_notebook(file, files, config)
            made = {self.root / ".cache" / uri for uri in self.notebook_of.values()}
            for stale in (self.root / ".cache" / "notebooks").glob("*.ipynb"):
                if stale not in made:
                    stale.unlink()
        return files

    def _add_notebook(self, file: File, files: Files, config: Any) -> None:
        markdown = file.content_string
        try:
            fences = scan_page(markdown, file.src_uri, self.root)
        except FenceError:
            return  # the page itself reports the error when it is rendered
        if not fences:
            return
        uri = f"notebooks/{PurePosixPath(file.src_uri).stem}.ipynb"
        path = self.root / ".cache" / uri
        write_if_changed(chapter_notebook(markdown, file.src_uri, fences, self.root), path)
        # A plain File rooted in .cache, not File.generated: mkdocs-jupyter wraps files in a
        # class that forwards attributes, and loses a generated file's stored source path.
        files.append(File(uri, src_dir=str(self.root / ".cache"), dest_dir=config.site_dir,
                          use_directory_urls=config.use_directory_urls))
        self.notebook_of[file.src_uri] = uri

    def on_page_markdown(self, markdown: str, *, page: Any, config: Any, files: Files) -> str:
        try:
            fences = scan_page(markdown, page.file.src_uri, self.root)
        except FenceError as error:
            raise PluginError(str(error)) from None
        self.executor.start_page(page.file.src_uri, fences)
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
        return html

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
        # mkdocs-jupyter copies the notebook next to the page; Material shows no button for it.
        notebook = PurePosixPath(page.file.src_uri).name
        download = (f'<p><a class="md-button" href="{notebook}" download>Download the notebook '
                    f"({notebook})</a></p>")
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
        for name, css in self.notebook_css.items():
            target = Path(config.site_dir) / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(purge(css, self.notebook_classes), encoding="utf-8")
        stats = self.executor.stats
        pruned = self.executor.prune()
        log.info(
            "snippet blocks: %d executed, %d from cache, %d replayed for sessions; "
            "%d stale cache entries removed",
            stats.executed, stats.cached, stats.replayed, pruned,
        )
        if os.environ.get("BP_EXEC_TIMINGS"):  # for snippets/sitebuild/benchmark.py
            Path(os.environ["BP_EXEC_TIMINGS"]).write_text(json.dumps(stats.seconds))

    def _format_python(self, **kwargs: Any) -> str:
        return markdown_exec.base_format(language="python", run=self._run, **kwargs)

    def _run(self, code: str, returncode: int | None = None, session: str | None = None,
             id: str | None = None, **extra: Any) -> str:
        try:
            return self.executor.run(code, session or "")
        except BlockError as error:
            # markdown-exec logs a WARNING (fatal under --strict) and shows this on the page,
            # so `mkdocs serve` keeps serving and the page recovers once the snippet is fixed.
            raise markdown_exec.ExecutionError(str(error)) from None


_MATHJAX = re.compile(r'<!-- Load mathjax -->\s*<script src=""> </script>\s*'
                      r'<!-- MathJax configuration -->\s*<script type="text/x-mathjax-config">'
                      r'.*?</script>', re.S)
_STYLE = re.compile(r"<style[^>]*>(.*?)</style>", re.S)
BUILD_KERNEL = "backprop-build"


def _install_build_kernel(root: Path) -> None:
    """A Jupyter kernel for executing the notebooks during the build: this Python, with the
    project root on its path (nbconvert runs it in the notebook's folder), quiet (ipykernel
    warns on every start that TCP is unencrypted), and keeping freed memory, as the build
    process does. It lives in .cache/jupyter, found through JUPYTER_PATH; the notebooks
    readers download name the ordinary python3 kernel."""
    folder = root / ".cache" / "jupyter"
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}",
                 "--IPKernelApp.log_level=ERROR",
                 "--IPKernelApp.exec_lines=from snippets.bp.memory import keep_freed_memory; "
                 "keep_freed_memory()"],
        "display_name": "Python 3 (site build)",
        "language": "python",
        "env": {"PYTHONPATH": os.pathsep.join(
            p for p in (str(root), os.environ.get("PYTHONPATH", "")) if p)},
    }
    path = folder / "kernels" / BUILD_KERNEL / "kernel.json"
    text = json.dumps(spec, indent=1)
    if not path.is_file() or path.read_text() != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    paths = os.environ.get("JUPYTER_PATH", "")
    if str(folder) not in paths.split(os.pathsep):
        os.environ["JUPYTER_PATH"] = os.pathsep.join(p for p in (str(folder), paths) if p)


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
    parser.feed(html)
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
