"""Small-number suppression for exports and the web: 1-4 shown as "<5", plus secondary suppression.

Primary: a count from 1 to ``threshold - 1`` is replaced by ``"<5"`` (zero is shown).
Secondary: when a total is shown (column totals, and a row-total column if named), a group with
exactly one suppressed cell would reveal it by subtraction, so the smallest other non-zero
cell of that group is suppressed too; repeated until no group has exactly one. Columns
derived from a count (a rate, a percentage) are suppressed with it.

>>> import pandas as pd
>>> t = pd.DataFrame({"team": ["A", "B", "C"], "children": [3, 12, 40]})
>>> suppress(t, ["children"])["children"].tolist()
['<5', '<5', 40]
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

MARKER = "<5"


def suppress(
    table: pd.DataFrame,
    counts: Iterable[str],
    *,
    row_total: str | None = None,
    column_totals: bool = True,
    derived: dict[str, str] | None = None,
    threshold: int = 5,
    marker: str = MARKER,
) -> pd.DataFrame:
    """A copy of ``table`` with small counts in ``counts`` replaced by ``marker``.

    ``row_total`` names a column holding each row's total of ``counts`` (also suppressed when
    it is small); ``column_totals`` says the column sums are shown or derivable (the usual
    case: secondary suppression down each column); ``derived`` maps a column (rate, percent)
    to the count it comes from."""
    counts = [c for c in counts if c != row_total]
    missing = [c for c in [*counts, *([row_total] if row_total else [])] if c not in table.columns]
    if missing:
        from cscflow.errors import AnalysisError

        raise AnalysisError(f"no column(s) {missing} to suppress", hint=f"columns are {list(table.columns)}")
    cols = counts + ([row_total] if row_total else [])
    values = table[cols].to_numpy(dtype=float)
    hide = (values > 0) & (values < threshold)
    body = len(counts)
    changed = True
    while changed:
        changed = False
        groups: list[tuple[np.ndarray, np.ndarray]] = []
        if column_totals:
            for j in range(len(cols)):
                groups.append((np.arange(len(table)), np.full(len(table), j)))
        if row_total:
            for i in range(len(table)):
                groups.append((np.full(body + 1, i), np.arange(body + 1)))
        for rows, cs in groups:
            h = hide[rows, cs]
            if h.sum() == 1:
                v = values[rows, cs]
                cand = np.flatnonzero(~h & (v > 0) & np.isfinite(v))
                if len(cand):
                    k = cand[np.argmin(v[cand])]
                    hide[rows[k], cs[k]] = True
                    changed = True
    out = table.copy()
    for j, c in enumerate(cols):
        if hide[:, j].any():
            out[c] = out[c].astype(object)
            out.loc[hide[:, j], c] = marker
    for col, src in (derived or {}).items():
        if src in cols and col in out.columns:
            mask = hide[:, cols.index(src)]
            if mask.any():
                out[col] = out[col].astype(object)
                out.loc[mask, col] = marker
    return out


def suppress_value(n: float | int | None, threshold: int = 5, marker: str = MARKER) -> float | int | str | None:
    """One count: ``marker`` for 1..threshold-1, else the count.

    >>> suppress_value(3), suppress_value(0), suppress_value(12)
    ('<5', 0, 12)
    """
    if n is None or (isinstance(n, float) and np.isnan(n)):
        return n
    return marker if 0 < n < threshold else n
