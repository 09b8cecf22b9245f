"""Run one service of the before layout: python -m before_layout.run <name> --port P."""

from __future__ import annotations

import argparse

import uvicorn

from before_layout.settings import SERVICES, default_port


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve one service until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(prog="python -m before_layout.run")
    parser.add_argument("name", choices=SERVICES)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=None)
    args = parser.parse_args(argv)
    # ANTI-PATTERN (fix 6: runtime tuning): the defaults, as found: asyncio loop, h11, one
    # worker, stdlib json (after: uvloop, httptools, workers per core, orjson).
    uvicorn.run(
        f"before_layout.services.{args.name}:app",
        host=args.host,
        port=args.port or default_port(args.name),
        loop="asyncio",
        http="h11",
        workers=1,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
