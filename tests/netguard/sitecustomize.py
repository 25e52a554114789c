"""Imported at start-up by every Python process of a site build that the tests run
(``PYTHONPATH=tests/netguard``): refuses, and records in ``$BP_NETWORK_LOG``, every name lookup
and connection that would leave the machine. The build must fetch nothing, so a build that
tries fails, and the log says what it tried. Loopback stays open: Jupyter kernels talk to the
build over 127.0.0.1."""

import os
import socket

_LOG = os.environ.get("BP_NETWORK_LOG")
_LOCAL_NAMES = {None, "", "localhost", "127.0.0.1", "::1", b"localhost", b"127.0.0.1"}


def _is_local(host) -> bool:
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    return host in _LOCAL_NAMES or str(host).startswith("127.")


def _refuse(what: str) -> None:
    if _LOG:
        with open(_LOG, "a", encoding="utf-8") as log:
            log.write(f"{what}\n")
    raise OSError(f"network access refused during a test build: {what}")


_getaddrinfo = socket.getaddrinfo
_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex


def getaddrinfo(host, *args, **kwargs):
    if not _is_local(host):
        _refuse(f"resolve {host}")
    return _getaddrinfo(host, *args, **kwargs)


def _check(sock, address) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address[0]):
        _refuse(f"connect {address[0]}:{address[1]}")


def connect(self, address):
    _check(self, address)
    return _connect(self, address)


def connect_ex(self, address):
    _check(self, address)
    return _connect_ex(self, address)


socket.getaddrinfo = getaddrinfo
socket.socket.connect = connect
socket.socket.connect_ex = connect_ex
