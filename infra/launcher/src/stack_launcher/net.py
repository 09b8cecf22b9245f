"""Small TCP helpers: free ports and waiting for a port to accept connections."""

from __future__ import annotations

import socket
import threading
import time

LOCALHOST = "127.0.0.1"

_handed_out: set[int] = set()
_handed_out_lock = threading.Lock()


def free_port(host: str = LOCALHOST) -> int:
    """Return a TCP port that is free now and was not handed out before by this process."""
    # The kernel may offer a port again once its probe socket is closed; remembering what we
    # handed out keeps two processes of one stack from being given the same port.
    with _handed_out_lock:
        for _ in range(100):
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                probe.bind((host, 0))
                port: int = probe.getsockname()[1]
            if port not in _handed_out:
                _handed_out.add(port)
                return port
    raise RuntimeError("could not find a free TCP port")


def port_accepts(port: int, host: str = LOCALHOST, timeout: float = 0.5) -> bool:
    """Return whether a TCP connection to host:port succeeds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for_port(port: int, host: str = LOCALHOST, timeout: float = 10.0) -> None:
    """Block until host:port accepts TCP connections, or raise TimeoutError."""
    deadline = time.monotonic() + timeout
    while not port_accepts(port, host):
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"nothing accepted connections on {host}:{port} within {timeout:.0f} s"
            )
        time.sleep(0.05)
