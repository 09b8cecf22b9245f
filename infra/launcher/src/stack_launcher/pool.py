"""Keep at most one layout running and hand it to whoever asks (test suites, the bench).

Both layouts share one Redis and starting a layout empties it, so two running side by side
would disturb each other; asking for the other layout stops the running one first.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

from stack_launcher.infra import Infra
from stack_launcher.stack import Stack, run_stack


class StackPool:
    """Start a layout on demand on shared infra, stopping the other one first."""

    def __init__(self, infra: Infra, workdir: Path, *, scale: str | None = "small") -> None:
        self._infra = infra
        self._workdir = workdir
        self._scale = scale
        self._running: tuple[str, ExitStack, Stack] | None = None

    def get(self, layout: str) -> Stack:
        """Return the running stack of `layout`, starting it if needed."""
        if self._running is not None and self._running[0] == layout:
            return self._running[2]
        self.close()
        cleanup = ExitStack()
        stack = cleanup.enter_context(
            run_stack(layout, workdir=self._workdir / layout, infra=self._infra, scale=self._scale)
        )
        self._running = (layout, cleanup, stack)
        return stack

    def close(self) -> None:
        """Stop the running stack, if any."""
        if self._running is not None:
            _, cleanup, _ = self._running
            self._running = None
            cleanup.close()
