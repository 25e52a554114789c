"""Install the site's npm packages from the npm registry (no Node.js needed).

    python -m snippets.sitebuild.vendor

* KaTeX, the math renderer: the script (run when the site is built), the stylesheet and the
  woff2 fonts (served), in ``.vendor/katex-<version>/``;
* Observable Plot and D3, which draw the interactive figures (loaded by a page only when one
  of its interactive figures comes into view), in ``.vendor/@observablehq/plot-<version>/``
  and ``.vendor/d3-<version>/``;
* axe-core, the accessibility checker the browser tests run on every page (not served), in
  ``.vendor/axe-core-<version>/``.

Each is one pinned tarball, checked against the registry's published sha512 integrity, of which
only the files needed are kept. Nothing is fetched at build or reading time, no third-party code
is committed, and running the command again only re-checks what is already there.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import re
import shutil
import ssl
import sys
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    integrity: str  # versions[version].dist.integrity at https://registry.npmjs.org/<name>
    keep: re.Pattern  # tarball members to keep; group 1 is the installed name


KATEX = Package(
    "katex", "0.19.1",
    "sha512-jG8uKntjSEcm2EpQOh0XturpPuuC9r3Sq5HLHdsFdWZT27E672SF19QEi+of0/YeOy15lDgRhKvr5614uRrEfA==",
    re.compile(r"^package/dist/(katex\.min\.js|katex\.min\.css|fonts/[\w-]+\.woff2)$"),
)
AXE = Package(
    "axe-core", "4.14.1",
    "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==",
    re.compile(r"^package/(axe\.min\.js)$"),
)
# Chosen for the interactive figures on measurements (shared/notes/interactive-and-offline.md):
# 161 KB compressed with D3, SVG output (what is drawn can be read back from the page, and
# axes and text follow the palette through currentColor), byte-identical, accessible marks.
PLOT = Package(
    "@observablehq/plot", "0.6.17",
    "sha512-/qaXP/7mc4MUS0s4cPPFASDRjtsWp85/TbfsciqDgU1HwYixbSbbytNuInD8AcTYC3xaxACgVX06agdfQy9W+g==",
    re.compile(r"^package/(dist/plot\.umd\.min\.js|LICENSE)$"),
)
D3 = Package(
    "d3", "7.9.2",
    "sha512-ZKb/mONPVKzaO5UlcWcwN8bS4ezvQaYu+bsou+XgNABdGC800kwH651ADTbbTxMPHW13UlvbQafdmJQDk1w7Mg==",
    re.compile(r"^package/(dist/d3\.min\.js|LICENSE)$"),
)
PACKAGES = (KATEX, AXE, PLOT, D3)
DEFAULT_DIR = Path(".vendor")
SITE_PREFIX = "assets/vendor/katex"
CHART_FILES = {"assets/vendor/plot/plot.umd.min.js": (PLOT, "dist/plot.umd.min.js"),
               "assets/vendor/plot/LICENSE": (PLOT, "LICENSE"),
               "assets/vendor/d3/d3.min.js": (D3, "dist/d3.min.js"),
               "assets/vendor/d3/LICENSE": (D3, "LICENSE")}
# KaTeX's @font-face rules list woff2, woff and ttf; every browser that runs KaTeX reads woff2,
# so the other two are dropped rather than shipped.
_FALLBACK_FONTS = re.compile(r',url\(fonts/[\w-]+\.(?:woff|ttf)\) format\("(?:woff|truetype)"\)')


class VendorError(RuntimeError):
    """A package is missing or damaged; the message says which command installs it."""


def install_dir(root: Path, package: Package = KATEX) -> Path:
    return root / f"{package.name}-{package.version}"


def _tarball_url(package: Package) -> str:
    base = package.name.rpartition("/")[2]   # @scope/name -> name-<version>.tgz
    return f"{_registry()}/{package.name}/-/{base}-{package.version}.tgz"


def installed_files(root: Path, package: Package) -> dict[str, Path]:
    """{installed name: path} of an installed package; VendorError if it is not complete."""
    folder = install_dir(root, package)
    manifest = folder / "MANIFEST.json"
    if not manifest.is_file():
        raise VendorError(
            f"{package.name} {package.version} is not installed in {folder}; install it with: "
            "python -m snippets.sitebuild.vendor"
        )
    names = json.loads(manifest.read_text(encoding="utf-8"))
    missing = [name for name in names if not (folder / name).is_file()]
    if missing:
        raise VendorError(
            f"{folder} lacks {missing[:3]}; reinstall with: python -m snippets.sitebuild.vendor"
        )
    return {name: folder / name for name in sorted(names)}


def site_files(root: Path) -> dict[str, Path]:
    """Map site paths (``assets/vendor/...``) to the installed files the site serves: KaTeX,
    and Plot and D3 for the interactive figures."""
    # KaTeX's scripts typeset at build time (snippets/sitebuild/mathrender.py); the browser
    # gets the stylesheet and fonts only.
    files = {f"{SITE_PREFIX}/{name}": path
             for name, path in installed_files(root, KATEX).items()
             if not name.endswith(".js")}
    for uri, (package, name) in CHART_FILES.items():
        files[uri] = installed_files(root, package)[name]
    return files


def katex_script(root: Path = DEFAULT_DIR) -> Path:
    """The installed katex.min.js, which typesets the site's math when it is built."""
    return installed_files(root, KATEX)["katex.min.js"]


def axe_script(root: Path = DEFAULT_DIR) -> Path:
    """The installed axe.min.js, for the browser tests."""
    return installed_files(root, AXE)["axe.min.js"]


def _registry() -> str:
    # Honour an npm mirror configured the way npm itself reads it.
    url = os.environ.get("NPM_CONFIG_REGISTRY") or os.environ.get("npm_config_registry")
    return (url or "https://registry.npmjs.org").rstrip("/")


def _download(url: str) -> bytes:
    context = ssl.create_default_context()
    try:
        import certifi
    except ImportError:
        pass
    else:
        context.load_verify_locations(certifi.where())
    with urllib.request.urlopen(url, timeout=60, context=context) as response:
        return response.read()


def _check_integrity(blob: bytes, package: Package) -> None:
    algorithm, _, expected = package.integrity.partition("-")
    actual = base64.b64encode(hashlib.new(algorithm, blob).digest()).decode()
    if actual != expected:
        raise VendorError(f"{package.name}-{package.version}.tgz does not match its registry "
                          "integrity hash")


def install(root: Path = DEFAULT_DIR, package: Package = KATEX, *,
            tarball: bytes | None = None) -> Path:
    """Install ``package`` into ``root``; return its folder. ``tarball`` skips the download."""
    folder = install_dir(root, package)
    try:
        installed_files(root, package)
        return folder  # already complete
    except VendorError:
        pass
    if tarball is None:
        tarball = _download(_tarball_url(package))
    _check_integrity(tarball, package)
    staging = folder.with_name(folder.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    names = []
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        for member in archive.getmembers():
            match = package.keep.match(member.name)
            if not (match and member.isfile()):
                continue
            name = match[1]
            data = archive.extractfile(member).read()
            if package is KATEX and name == "katex.min.css":
                data = _FALLBACK_FONTS.sub("", data.decode()).encode()
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            (staging / name).write_bytes(data)
            names.append(name)
    (staging / "MANIFEST.json").write_text(json.dumps(sorted(names), indent=1), encoding="utf-8")
    shutil.rmtree(folder, ignore_errors=True)
    staging.rename(folder)
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="install folder")
    args = parser.parse_args(argv)
    for package in PACKAGES:
        try:
            folder = install(args.dir, package)
        except (OSError, VendorError) as error:
            print(f"could not install {package.name} {package.version}: {error}", file=sys.stderr)
            return 1
        count = len(installed_files(args.dir, package))
        print(f"{package.name} {package.version}: {count} files in {folder}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
