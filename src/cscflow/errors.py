"""Errors that cscflow raises on purpose.

Every message says what was found and what to do about it. The CLI prints
``str(error)`` on one line (plus the hint) and exits with status 1; ``--debug``
shows the traceback.
"""

from __future__ import annotations


class CscflowError(Exception):
    """Base class for every error cscflow raises on purpose.

    >>> err = CscflowError("no episodes table in workspace 'la'", hint="run `cscflow load` first")
    >>> print(err)
    no episodes table in workspace 'la' (hint: run `cscflow load` first)
    >>> print(CscflowError("columns found: CHILD\\nC1,2020-01-01"))
    columns found: CHILD C1,2020-01-01
    """

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        # one line whatever it quotes (a header cell holding an unclosed quote swallows the whole file, line
        # breaks and all): line breaks become spaces
        message = " ".join(message.splitlines())
        self.message = message
        self.hint = hint
        super().__init__(message)

    def __str__(self) -> str:
        return f"{self.message} (hint: {self.hint})" if self.hint else self.message

    def __reduce__(self) -> tuple[object, ...]:
        # pickled with its hint (a reader run in another process raises it back in this one)
        return (self.__class__, (self.message,), {"hint": self.hint})


class WorkspaceError(CscflowError):
    """The workspace folder, its database or its key is missing or unusable."""


class SourceError(CscflowError):
    """An input file cannot be read at all (as opposed to single bad rows, which are quarantined)."""


class MapError(CscflowError):
    """A process-map file is invalid."""


class AnalysisError(CscflowError):
    """An analysis cannot be run on the data given."""
