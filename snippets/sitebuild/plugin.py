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
"""

from __future__ import annotations

import json
import logging
import os
import posixpath
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
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
from snippets.sitebuild.execution import BlockError, Executor
from snippets.sitebuild.fences import FenceError, scan_page

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

    def on_files(self, files: Files, *, config: Any) -> Files:
        for uri, path in self.vendor_files.items():
            files.append(File.generated(config, uri, abs_src_path=str(path)))
        return files

    def on_page_markdown(self, markdown: str, *, page: Any, config: Any, files: Files) -> str:
        try:
            fences = scan_page(markdown, page.file.src_uri, self.root)
        except FenceError as error:
            raise PluginError(str(error)) from None
        self.executor.start_page(page.file.src_uri, fences)
        return markdown

    def on_page_content(self, html: str, *, page: Any, config: Any, files: Files) -> str:
        for problem in _image_problems(html, page.file.src_uri, page.url, files):
            log.warning(problem)
        html, anchors = _rewrite_md_links(html, page, files)
        self.printed_anchors += anchors
        return html

    def on_env(self, env: Any, *, config: Any, files: Files) -> Any:
        # Every page has been rendered now, so every page's headings are known.
        for page, target, anchor in self.printed_anchors:
            content = target.page.content if target.page else ""
            if f'id="{anchor}"' not in (content or ""):
                log.warning(f"Doc file '{page}' contains a link to '{target.src_uri}#{anchor}' "
                            f"in snippet output, but that page has no anchor '#{anchor}'")
        return env

    def on_post_build(self, *, config: Any) -> None:
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
