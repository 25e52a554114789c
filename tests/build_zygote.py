"""Builds of the fixture sites, each in its own process, without paying for imports each time.

A fixture-site build is small (a page or two, a snippet or two), so most of a fresh
``python -m mkdocs build`` is spent importing MkDocs, the site's plugin, NumPy and Matplotlib
(about a second on this machine, for each of some sixty builds). This helper process imports
them once, then forks a child for each build: the child is a new process that has never built
anything (module caches empty, no state from another build), runs the command line exactly as
``python -m mkdocs`` would, in the fixture's folder and with the environment given, and writes
its output to a file. The helper itself never builds and starts no thread, so forking it is
safe (it is started with one BLAS thread, and the builds set one thread themselves).

Protocol, one JSON object per line: the parent sends ``{"args", "cwd", "env", "out"}``; the
helper answers ``{"pid": ...}`` when the child has started and ``{"code": ...}`` when it ended.
"""

from __future__ import annotations

import json
import os
import sys


def _child(request: dict) -> int:
    os.setsid()                 # a process group of its own, to be stopped whole on a timeout
    nothing = os.open(os.devnull, os.O_RDONLY)
    os.dup2(nothing, 0)         # the requests are the helper's, not the build's
    os.close(nothing)
    out = os.open(request["out"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.close(out)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    # As ``python -m mkdocs`` in that folder: it comes first on the import path.
    sys.path[0] = request["cwd"]
    sys.argv = ["mkdocs", *request["args"]]
    from mkdocs.__main__ import cli

    try:
        cli.main(args=request["args"], prog_name="mkdocs", standalone_mode=True)
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    return code


def main() -> None:
    import matplotlib

    matplotlib.use("agg")
    import markdown_exec  # noqa: F401
    import matplotlib.pyplot
    import mkdocs.__main__
    import mkdocs.commands.build  # noqa: F401
    import numpy  # noqa: F401

    import snippets.sitebuild.plugin  # noqa: F401

    requests, replies = sys.stdin, sys.stdout
    for line in requests:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                code = _child(request)
            finally:
                os._exit(code)
        replies.write(json.dumps({"pid": pid}) + "\n")
        replies.flush()
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        replies.write(json.dumps({"code": code}) + "\n")
        replies.flush()


if __name__ == "__main__":
    main()
