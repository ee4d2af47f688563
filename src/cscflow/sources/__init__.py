"""Read what LAs hold into one workspace, with a data-quality report and nothing lost.

>>> import tempfile, pathlib
>>> from cscflow import Workspace
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "log.csv").write_text("child_id,stage,start\\nC1,referral,2020-01-02\\nC1,assessment,2020-01-03\\n")
>>> ws = Workspace(d / "ws", la="886")
>>> [(r.file, r.rows_read, r.rows_loaded) for r in load(ws, [d / "log.csv"])]
[('log.csv', 2, 2)]
>>> quality_report(ws)["sources"][0]["rows_quarantined"]
0
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from cscflow.sources.base import ReadResult
from cscflow.sources.detect import check_format, detect_format
from cscflow.sources.load import Progress, SourceReport, load
from cscflow.sources.load.read import reader

if TYPE_CHECKING:
    from cscflow.workspace.protocol import WorkspaceLike

__all__ = ["Progress", "ReadResult", "SourceReport", "detect_format", "load", "quality_report", "read_file"]



def read_file(path: str | Path, format: str = "auto", **options: Any) -> ReadResult:
    """Read one file (without a workspace): its rows, quarantine and repairs.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "log.csv"
    >>> _ = p.write_text("child_id,stage,start\\nC1,referral,2020-01-02\\n")
    >>> read_file(p).episodes["stage"].to_pylist()  # event logs give an Arrow table
    ['referral']
    """
    path = Path(path)
    fmt = check_format(path, format)
    results = reader(fmt)([path], **options)
    return results[0]


def quality_report(ws: WorkspaceLike) -> dict[str, Any]:
    """The data-quality report of a workspace (the JSON of ``cscflow quality --json``).

    ``sources``: one item per loaded file with file, format, rows_read, rows_loaded,
    rows_quarantined, rows_repaired and problems (problem, count, examples);
    ``sequences``: children with impossible sequences across all sources.
    """
    from cscflow.sources.quality import report

    return report(ws)
