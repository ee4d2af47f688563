"""What every reader returns, and the helpers readers share.

A reader is a function ``read_<format>(path, **options) -> ReadResult``. It never
touches a workspace: :mod:`cscflow.sources.load` pseudonymises, de-duplicates
and writes the result. Rows that cannot be loaded go to ``quarantine`` with the
column, the value, what is wrong and what to do; for every source
``rows_read == rows_loaded + rows_quarantined``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa

#: Columns of each frame a reader returns (LA child ids are not yet pseudonymised).
CHILD_COLUMNS = ["source_child_id", "la", "sex", "ethnicity", "birth_date", "disability", "uasc", "attrs"]
IDENTIFIER_COLUMNS = ["source_child_id", "upn", "surname", "forenames", "birth_date"]
EPISODE_COLUMNS = [
    "source_child_id", "stage", "start", "end", "outcome", "need_key", "team", "worker", "attrs", "source_row",
]
PROCEEDINGS_COLUMNS = [
    "proceedings_key", "source_child_id", "application_date", "final_order_date", "order", "court", "attrs",
    "source_row", "surname", "forenames", "birth_date",
]
QUARANTINE_COLUMNS = ["source_row", "column", "value", "problem", "hint"]
#: Reviews of a child's plan (``stage``: cp_plan or looked_after) and missing episodes, as each return dates them.
REVIEW_COLUMNS = ["source_child_id", "stage", "date", "code", "attrs", "source_row"]
MISSING_COLUMNS = ["source_child_id", "kind", "start", "end", "interview_offered", "interview_accepted", "attrs",
                   "source_row"]


def _frame(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


@dataclass
class ReadResult:
    """The rows one source file yields, before pseudonymisation.

    ``need_key`` in episodes is the source's own key for the episode of need (e.g.
    the CIN census referral); the loader turns it into ``need_id``.
    ``rows_read`` counts the data rows (or XML records) of the file; each is either
    loaded (``rows_loaded``) or quarantined (its row numbers in ``quarantine``).
    ``reviews`` and ``missing`` are dated rows of a child that are not stays (plan reviews, missing
    episodes); a row of them is a data row of the file like any other (loaded or quarantined).
    ``repairs`` lists documented fixes (e.g. an open 903 episode closed by the next).
    ``episodes`` may also be a ``pyarrow.Table`` with the same columns (the event-log reader
    returns one so that millions of rows never pass through pandas); the loader takes either.
    """

    source: str
    format: str
    rows_read: int = 0
    rows_loaded: int = 0
    children: pd.DataFrame = field(default_factory=lambda: _frame(CHILD_COLUMNS))
    identifiers: pd.DataFrame = field(default_factory=lambda: _frame(IDENTIFIER_COLUMNS))
    episodes: pd.DataFrame | pa.Table = field(default_factory=lambda: _frame(EPISODE_COLUMNS))
    proceedings: pd.DataFrame = field(default_factory=lambda: _frame(PROCEEDINGS_COLUMNS))
    quarantine: pd.DataFrame = field(default_factory=lambda: _frame(QUARANTINE_COLUMNS))
    reviews: pd.DataFrame = field(default_factory=lambda: _frame(REVIEW_COLUMNS))
    missing: pd.DataFrame = field(default_factory=lambda: _frame(MISSING_COLUMNS))
    repairs: pd.DataFrame = field(
        default_factory=lambda: _frame(["source_row", "repair", "detail"])
    )
    warnings: list[str] = field(default_factory=list)

    @property
    def rows_quarantined(self) -> int:
        """Distinct source rows with at least one quarantine entry that stopped them loading."""
        if self.quarantine.empty:
            return 0
        return int(self.quarantine["source_row"].nunique())

    @property
    def rows_repaired(self) -> int:
        return 0 if self.repairs.empty else int(self.repairs["source_row"].nunique())

    def check_accounted(self) -> None:
        """Raise AssertionError unless rows_read == rows_loaded + rows_quarantined."""
        assert self.rows_read == self.rows_loaded + self.rows_quarantined, (
            f"{self.source}: read {self.rows_read}, loaded {self.rows_loaded}, "
            f"quarantined {self.rows_quarantined}"
        )


def source_name(path: str | Path) -> str:
    """How a file is named in the workspace and the quality report: its file name, with its folder when that is
    a Hive-style partition (``la=E09000007/part-0.parquet``: partitioned files share one name, and loading a
    name again replaces what it loaded, so the partition must be part of it).

    >>> source_name("/data/returns/episodes.csv"), source_name("/data/events/la=E09000007/part-0.parquet")
    ('episodes.csv', 'la=E09000007/part-0.parquet')
    """
    p = Path(path)
    return f"{p.parent.name}/{p.name}" if "=" in p.parent.name else p.name
