"""Install the site's math renderer, KaTeX, from the npm registry (no Node.js needed).

    python -m snippets.sitebuild.vendor

Downloads one pinned tarball, checks it against the registry's published sha512 integrity, and
keeps only what the site serves (the script, the stylesheet, auto-render and the woff2 fonts)
in ``.vendor/katex-<version>/``. Nothing is fetched at build or reading time, no third-party
code is committed, and running it again only re-checks what is already there.
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
from pathlib import Path

KATEX_VERSION = "0.19.1"
# From https://registry.npmjs.org/katex (versions["0.19.1"].dist.integrity)
KATEX_INTEGRITY = (
    "sha512-jG8uKntjSEcm2EpQOh0XturpPuuC9r3Sq5HLHdsFdWZT27E672SF19QEi+of0/YeOy15lDgRhKvr5614uRrEfA=="
)
DEFAULT_DIR = Path(".vendor")
SITE_PREFIX = "assets/vendor/katex"
_KEEP = re.compile(
    r"^package/dist/(katex\.min\.js|katex\.min\.css|contrib/auto-render\.min\.js|fonts/[\w-]+\.woff2)$"
)
# KaTeX's @font-face rules list woff2, woff and ttf; every browser that runs KaTeX reads woff2,
# so the other two are dropped rather than shipped.
_FALLBACK_FONTS = re.compile(r',url\(fonts/[\w-]+\.(?:woff|ttf)\) format\("(?:woff|truetype)"\)')


class VendorError(RuntimeError):
    """KaTeX is missing or damaged; the message says which command installs it."""


def install_dir(root: Path) -> Path:
    return root / f"katex-{KATEX_VERSION}"


def site_files(root: Path) -> dict[str, Path]:
    """Map site paths (``assets/vendor/katex/...``) to the installed files under ``root``."""
    folder = install_dir(root)
    manifest = folder / "MANIFEST.json"
    if not manifest.is_file():
        raise VendorError(
            f"KaTeX {KATEX_VERSION} is not installed in {folder}. The site renders math "
            "offline from a local copy; install it with: python -m snippets.sitebuild.vendor"
        )
    names = json.loads(manifest.read_text(encoding="utf-8"))
    missing = [name for name in names if not (folder / name).is_file()]
    if missing:
        raise VendorError(
            f"{folder} lacks {missing[:3]}; reinstall with: python -m snippets.sitebuild.vendor"
        )
    return {f"{SITE_PREFIX}/{name}": folder / name for name in sorted(names)}


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


def _check_integrity(blob: bytes) -> None:
    algorithm, _, expected = KATEX_INTEGRITY.partition("-")
    actual = base64.b64encode(hashlib.new(algorithm, blob).digest()).decode()
    if actual != expected:
        raise VendorError(f"katex-{KATEX_VERSION}.tgz does not match its registry integrity hash")


def install(root: Path = DEFAULT_DIR, *, tarball: bytes | None = None) -> Path:
    """Install KaTeX into ``root``; return its folder. ``tarball`` skips the download."""
    folder = install_dir(root)
    try:
        site_files(root)
        return folder  # already complete
    except VendorError:
        pass
    if tarball is None:
        tarball = _download(f"{_registry()}/katex/-/katex-{KATEX_VERSION}.tgz")
    _check_integrity(tarball)
    staging = folder.with_name(folder.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    names = []
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        for member in archive.getmembers():
            match = _KEEP.match(member.name)
            if not (match and member.isfile()):
                continue
            name = match[1]
            data = archive.extractfile(member).read()
            if name == "katex.min.css":
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
    try:
        folder = install(args.dir)
    except (OSError, VendorError) as error:
        print(f"could not install KaTeX {KATEX_VERSION}: {error}", file=sys.stderr)
        return 1
    print(f"KaTeX {KATEX_VERSION}: {len(site_files(args.dir))} files in {folder}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
