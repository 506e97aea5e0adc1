"""The package's errors that every layer may raise; nothing here imports the rest of the package.

``InfomorphicError`` is the base of every error the package raises on purpose (a bad option, a
damaged run folder or data file, a diverged run, a folder another process holds, ...): the
command line catches it to print the message instead of a traceback, and a caller can catch it
to tell the package's refusals from bugs. Each error keeps its builtin base as well
(``ConfigError`` is a ``ValueError``, ``FolderLockedError`` an ``OSError``), so code that
caught those before still does.

``ConfigError`` is the one error of a bad configuration value, from the options of a run down to
one field of one layer of a network's description: it carries the field's name (``bins``,
``hidden2.bins``, ``output.bins``), so the command line can name the flag at fault without
reading the message.
"""

from __future__ import annotations

__all__ = ["ConfigError", "InfomorphicError"]


class InfomorphicError(Exception):
    """The base of the package's errors; its message says what was wrong and what to do."""


class ConfigError(InfomorphicError, ValueError):
    """A configuration value that is not allowed; ``field`` names it (``hidden2.bins``), and
    ``message`` says what is wrong and what is allowed."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    @property
    def layer(self) -> str | None:
        """The layer of a per-layer field (``hidden2`` of ``hidden2.bins``), else None."""
        head, dot, _ = self.field.rpartition(".")
        return head if dot else None

    @property
    def option(self) -> str:
        """The field without its layer (``bins`` of ``hidden2.bins``)."""
        return self.field.rpartition(".")[2]
