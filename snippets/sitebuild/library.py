"""The site's small library as a wheel the site serves, for notebooks that run anywhere.

A downloaded notebook imports ``snippets.bp`` and ``snippets.figures``. Rather than ask readers
to clone the repository, the build packs exactly the project modules the chapters import
(found by the same import walk as the snippet cache uses) into a standard wheel, served at
``assets/python/``; each notebook's first cell ``pip install``s it from there.

The wheel is written by hand, not by a build backend: it is a zip file with three metadata
files, and writing it here makes it byte-identical from build to build (fixed timestamps and
order), which a backend does not promise.
"""

from __future__ import annotations

import base64
import hashlib
import io
import tomllib
import zipfile
from pathlib import Path

_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip file can hold


def project_metadata(root: Path) -> dict:
    """The [project] table of pyproject.toml."""
    with (root / "pyproject.toml").open("rb") as file:
        return tomllib.load(file)["project"]


def wheel_name(root: Path) -> str:
    """``backprop_first_principles-0.1.0-py3-none-any.whl``, from pyproject.toml."""
    project = project_metadata(root)
    return f"{project['name'].replace('-', '_')}-{project['version']}-py3-none-any.whl"


def build_wheel(root: Path, modules: set[Path], extra: dict[str, bytes] | None = None) -> bytes:
    """A wheel holding ``modules`` (files under ``root``) at their paths relative to it, the
    project's license, and metadata that requires what the project requires at run time."""
    project = project_metadata(root)
    name = project["name"].replace("-", "_")
    info = f"{name}-{project['version']}.dist-info"
    files: dict[str, bytes] = {p.relative_to(root).as_posix(): p.read_bytes()
                               for p in sorted(modules)}
    outside = [path for path in files if not path.startswith("snippets/")]
    if outside:
        raise ValueError(f"the served library may only hold snippets/ modules; got {outside}")
    files.update(extra or {})
    requires = [d for d in project["dependencies"]
                if d.split("<")[0].split(">")[0].split("=")[0].strip() in {"numpy", "matplotlib"}]
    metadata = "\n".join([
        "Metadata-Version: 2.4",
        f"Name: {project['name']}",
        f"Version: {project['version']}",
        f"Summary: {project['description']}",
        f"License-Expression: {project['license']}",
        "License-File: LICENSE",
        f"Requires-Python: {project['requires-python']}",
        *[f"Requires-Dist: {d.split('#')[0].strip()}" for d in requires],
        "",
    ])
    files[f"{info}/METADATA"] = metadata.encode()
    files[f"{info}/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: backprop-sitebuild\n"
                              b"Root-Is-Purelib: true\nTag: py3-none-any\n")
    if (root / "LICENSE").is_file():
        files[f"{info}/licenses/LICENSE"] = (root / "LICENSE").read_bytes()
    record = [f"{path},sha256={_urlsafe_sha256(data)},{len(data)}"
              for path, data in sorted(files.items())]
    files[f"{info}/RECORD"] = ("\n".join([*record, f"{info}/RECORD,,"]) + "\n").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in files.items():
            entry = zipfile.ZipInfo(path, date_time=_DATE)
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, data)
    return buffer.getvalue()


def _urlsafe_sha256(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
