"""The workspace: canonical tables on DuckDB (default) or Spark, keys and the calendar."""

from cscflow.workspace.calendar import add_working_days, bank_holidays, with_working_days, working_days
from cscflow.workspace.protocol import WorkspaceLike
from cscflow.workspace.pseudonym import pseudonym, pseudonymise
from cscflow.workspace.workspace import Workspace

__all__ = [
    "Workspace",
    "WorkspaceLike",
    "add_working_days",
    "bank_holidays",
    "pseudonym",
    "pseudonymise",
    "with_working_days",
    "working_days",
]
