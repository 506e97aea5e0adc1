"""Interruptions of a run: SIGTERM turned into the ``KeyboardInterrupt`` that Ctrl-C raises, so
that a terminated run saves its last completed epoch as an interrupted one does (the loop's
hooks do the saving)."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["Terminated", "terminate_as_interrupt"]


class Terminated(KeyboardInterrupt):
    """SIGTERM, turned into an interruption by ``terminate_as_interrupt``."""


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises ``Terminated`` (a ``KeyboardInterrupt``), so that a
    terminated run saves its last completed epoch as an interrupted one does. Only in the main
    thread (elsewhere the block runs unchanged)."""

    def terminate(signum: int, frame: object) -> None:
        raise Terminated

    try:
        previous = signal.signal(signal.SIGTERM, terminate)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
