"""Container health probe, exit 0 when healthy, 1 otherwise.

The slim base image has no curl or wget, and installing one only for this would add a tool to
every final image; the interpreter is already there. Port and path come from the arguments,
else from PORT and HEALTHCHECK_PATH, else 8000 and /healthz. The path `tcp` only opens a TCP
connection (for the SMTP sink, which speaks no HTTP); any other path is an HTTP GET that must
answer 2xx.
"""

import os
import socket
import sys
import urllib.request


def probe(port: int, path: str) -> None:
    """Raise if the local service on `port` does not answer `path`."""
    if path == "tcp":
        socket.create_connection(("127.0.0.1", port), timeout=3).close()
        return
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=3) as response:
        if not 200 <= response.status < 300:
            raise OSError(f"{path} answered {response.status}")


def main(argv: list[str]) -> int:
    """Probe once and return a process exit code."""
    port = int(argv[1] if len(argv) > 1 else os.environ.get("PORT", "8000"))
    path = argv[2] if len(argv) > 2 else os.environ.get("HEALTHCHECK_PATH", "/healthz")
    try:
        probe(port, path)
    except OSError as exc:  # URLError and HTTPError are OSErrors too
        print(f"healthcheck failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
