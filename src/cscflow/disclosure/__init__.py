"""Statistical disclosure control: the one place that decides what of a table may leave the machine.

Every output path (``cscflow flow`` and ``cscflow stats`` files and printed tables, the web app's
JSON, downloads and figures) passes its table through :func:`disclose` with the table's name; the
structure of each table is declared once in :mod:`cscflow.disclosure.registry`. The rules follow the
Government Statistical Service's practice for tables and tau-ARGUS / sdcTable (see docs/methods.md,
"Disclosure control"):

- primary suppression: a count of 1 to 4 is shown as ``<5`` (zero is shown);
- secondary suppression: where a total, an ``of`` column, the targets of one source, a remainder or
  a cumulative count would give a hidden count back, more counts are withheld (``[c]``) until no
  count of 1-4 can be deduced exactly (:mod:`cscflow.disclosure.cells`, audited by linear
  programming in :mod:`cscflow.disclosure.audit`);
- derived columns (rates, shares, percentages, medians, limits, test statistics) are blanked where
  they come from a hidden count; survival and cumulative-incidence curves are coarsened instead,
  stepping only where 5 events have accrued (:mod:`cscflow.disclosure.curves`);
- every disclosed file and figure carries its method, data window and the rule applied, and
  ``suppress=False`` (``--no-suppress``) marks everything "NOT SUPPRESSED: internal use only".

>>> import pandas as pd
>>> t = pd.DataFrame({"team": ["North", "South", "East"], "children": [3, 12, 40]})
>>> suppress(t, ["children"])["children"].tolist()
['<5', '[c]', 40]
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cscflow.disclosure.cells import PRIMARY, SECONDARY, Protected, protect
from cscflow.disclosure.curves import coarsen_cif, coarsen_km
from cscflow.disclosure.registry import SPECS, Pool, RowSum, Spec, Total, spec

THRESHOLD = 5
MARKER = PRIMARY
NOT_SUPPRESSED = "NOT SUPPRESSED: internal use only"
RULE = (f"Disclosure control: counts of 1 to {THRESHOLD - 1} shown as {PRIMARY}; other counts withheld as "
        f"{SECONDARY} where a total, a denominator or another count would give a small one back; rates, shares "
        "and other figures computed from a withheld count left blank; curves step only where at least "
        f"{THRESHOLD} events have accrued (GSS practice; see docs/methods.md).")
PUBLISHED = "Published statistics (already suppressed at source): shown as published."


@dataclass
class Disclosed:
    """A table ready to leave the machine, with the lines that must go with it."""

    name: str
    table: pd.DataFrame
    suppressed: bool
    method: str = ""
    window: str = ""
    cells: Protected | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def rule(self) -> str:
        """The disclosure-control sentence for this output."""
        if not self.suppressed:
            return f"{NOT_SUPPRESSED}: counts of 1 to {THRESHOLD - 1} are shown."
        if spec(self.name).published:
            return PUBLISHED
        done = ""
        if self.cells is not None:
            c = self.cells
            done = (f" Here: {_n(c.primary, 'count')} shown as {PRIMARY}, {_n(c.secondary, 'count')} withheld as "
                    f"{SECONDARY}, {_n(c.blanked, 'derived value')} left blank.")
        return RULE + done

    @property
    def header(self) -> list[str]:
        """Method, data window and disclosure rule, one sentence a line."""
        lines = [f"cscflow {self.name}: {spec(self.name).description}."]
        if self.method:
            lines.append(f"Method: {self.method}")
        if self.window:
            lines.append(f"Data: {self.window}")
        lines += self.notes
        lines.append(self.rule)
        return lines

    def csv(self) -> str:
        """The table as CSV, preceded by its header as ``# `` comment lines."""
        head = "".join(f"# {line}\n" for line in self.header)
        return head + str(self.table.to_csv(index=False))

    def write_csv(self, path: str | Path) -> None:
        Path(path).write_text(self.csv(), encoding="utf-8")

    def text(self) -> str:
        """The table as printed text, with its header."""
        with pd.option_context("display.max_rows", 500, "display.width", 200, "display.max_columns", 30):
            body = self.table.to_string(index=False) if len(self.table) else "(no rows)"
        return "\n".join([*self.header, body])

    def caption(self, width: int = 130) -> str:
        """The header for a figure: HTML line breaks, wrapped at ``width`` characters."""
        return "<br>".join(line for h in self.header[1:] for line in textwrap.wrap(h, width))

    def annotate(self, fig: Any) -> Any:
        """``fig`` with the caption written under the plot (a figure carries its method)."""
        cap = self.caption()
        n = cap.count("<br>") + 1
        fig.add_annotation(text=cap, xref="paper", yref="paper", x=0, y=0, yshift=-70, xanchor="left",
                           yanchor="top", align="left", showarrow=False, font={"size": 10, "color": "#444"},
                           name="cscflow-method")
        bottom = fig.layout.margin.b if fig.layout.margin and fig.layout.margin.b else 80
        fig.update_layout(margin={"b": max(bottom, 90 + 14 * n)})
        return fig


def _n(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


_COUNT = re.compile(r"\b\d[\d,]*(?= (?:periods?|rows?|events?|censored|child(?:ren)?|leavers?|referrals?|stays?|"
                    r"proceedings|paths?|cases?|assessments?|episodes?|entered|left|were|was)\b)")


def _about(n: int) -> str:
    """``n`` rounded so that a hidden count of 1 to 4 cannot be had back from it by difference."""
    step = 10 if n < 1000 else 10 ** (len(str(n)) - 3)
    return f"about {max(step, round(n / step) * step):,}"


def scrub(text: str, threshold: int = THRESHOLD) -> str:
    """``text`` (a method sentence) with a count of 1 to threshold - 1 shown as "<5" and, when there is one,
    the other counts of children rounded (a total known from another table could otherwise give it back).
    Counts of teams or LAs are not counts of children and stay as they are.

    >>> scrub("Kaplan-Meier of care: 12 rows, 3 events, 9 censored; 4 teams.")
    'Kaplan-Meier of care: about 10 rows, <5 events, about 10 censored; 4 teams.'
    >>> scrub("107,344 referrals, 55,889 events")
    '107,344 referrals, 55,889 events'
    """
    nums = [int(m.group(0).replace(",", "")) for m in _COUNT.finditer(text)]
    if not any(1 <= n < threshold for n in nums):
        return text

    def hide(m: re.Match[str]) -> str:
        n = int(m.group(0).replace(",", ""))
        return m.group(0) if n == 0 else PRIMARY if n < threshold else _about(n)

    return _COUNT.sub(hide, text)


def disclose(table: pd.DataFrame, name: str, *, suppress: bool = True, method: str = "", window: str = "",
             threshold: int = THRESHOLD) -> Disclosed:
    """Table ``name`` (declared in :data:`~cscflow.disclosure.registry.SPECS`) as it may be shared:
    coarsened, suppressed and blanked unless ``suppress`` is False (internal use)."""
    s = spec(name)
    if not suppress or s.published:
        return Disclosed(name, table.copy(), suppress, method, window)
    method, window = scrub(method, threshold), scrub(window, threshold)
    t = table
    if s.curve == "km":
        t = coarsen_km(table, threshold)
    elif s.curve == "cif":
        t = coarsen_cif(table, threshold)
    notes = []
    if s.pool is not None:
        before = len(t)
        t = pool_rare(t, s.pool, threshold)
        if len(t) < before or (len(t) and t[s.pool.category].iloc[-1] == s.pool.label.format(threshold=threshold)):
            notes.append(f"Rare rows pooled: the {_n(before - len(t) + 1, s.pool.category)} with 1 to {threshold - 1} "
                         f"children each are one row, {s.pool.label.format(threshold=threshold)!r} (a rare "
                         "category would show that such a child exists).")
    cells = protect(t, s, threshold)
    return Disclosed(name, cells.table, True, method, window, cells, notes)


def pool_rare(table: pd.DataFrame, pool: Pool, threshold: int = THRESHOLD) -> pd.DataFrame:
    """``table`` with its rows of a ``pool.count`` of 1 to ``threshold`` - 1 made one row at the end (see
    :class:`~cscflow.disclosure.registry.Pool`); the table itself when it has none.

    >>> t = pd.DataFrame({"rank": [1, 2, 3], "variant": ["a", "a > b", "a > c"], "cases": [40, 3, 1],
    ...                   "share": [40 / 44, 3 / 44, 1 / 44]})
    >>> pool_rare(t, spec("variants").pool)[["variant", "cases"]].values.tolist()
    [['a', 40], ['(other paths, each taken by fewer than 5 children)', 4]]
    """
    if pool.count not in table.columns or pool.category not in table.columns:
        return table
    n = pd.to_numeric(table[pool.count], errors="coerce")
    rare = ((n >= 1) & (n < threshold)).to_numpy()
    if not rare.any():
        return table
    other: dict[str, Any] = dict.fromkeys(table.columns)
    other[pool.category] = pool.label.format(threshold=threshold)
    for col in (pool.count, *pool.sums):
        if col in table.columns:
            other[col] = table.loc[rare, col].sum()
    kept = table.loc[~rare]
    out = pd.concat([kept, pd.DataFrame([other], columns=table.columns)], ignore_index=True)
    for col in table.columns:  # whole-number columns stay whole where the pooled row has a value
        if table[col].dtype.kind in "iu" and out[col].notna().all():
            out[col] = out[col].astype(table[col].dtype)
    return out


def numeric(table: pd.DataFrame) -> pd.DataFrame:
    """A disclosed table with its markers and blanks as NaN (for drawing figures from it)."""
    out = table.copy()
    for c in out.columns:
        if out[c].dtype != object:
            continue
        vals = out[c].dropna()
        if all(isinstance(v, int | float | np.number) or v in (PRIMARY, SECONDARY) for v in vals):
            out[c] = pd.to_numeric(out[c].where(~out[c].isin([PRIMARY, SECONDARY])), errors="coerce")
    return out


def flow_method(table: str, map_name: str = "england", start: Any = None, end: Any = None,
                where: dict[str, Any] | None = None, data: tuple[Any, Any] | None = None,
                observed: Any = None) -> tuple[str, str]:
    """(method, data window) sentences of flow table ``table`` for its header. ``data`` is the (first, last) day
    of any stay and ``observed`` the first day of the observation window
    (:func:`cscflow.journeys.windows.data_window`); with no ``start`` the period begins there (the CLI, the web app
    and the report compute the tables from there)."""
    from cscflow.disclosure.registry import FLOW_METHODS

    method = FLOW_METHODS.get(table.replace("-", "_"), spec(table).description) + f" Process map: {map_name}."
    first = start or observed or (data[0] if data else None)
    last = end or (data[1] if data else None)

    def fmt(d: Any) -> str:
        return str(pd.Timestamp(d).date()) if d is not None else "the data's edge"

    window = f"period {fmt(first)} to {fmt(last)}"
    if start is None and observed is not None:
        window += " (the data's observation window"
        if data and pd.Timestamp(data[0]) < pd.Timestamp(observed):
            window += (f"; the data reach back to {fmt(data[0])}, but before {fmt(observed)} the sources hold only "
                       "the stays that lasted: give an earlier start (--from) for that history, whose counts are "
                       "incomplete")
        window += ")"
    elif data:
        window += f" (data from {fmt(data[0])} to {fmt(data[1])})"
        if observed is not None and first is not None and pd.Timestamp(first) < pd.Timestamp(observed):
            window += (f"; the sources hold every stay from {fmt(observed)}: stays begun earlier are the history "
                       "of those that lasted, so counts before then are incomplete")
    if where:
        window += "; cohort " + ", ".join(f"{k}={v}" for k, v in sorted(where.items()))
    return method, window + "."


def suppress(table: pd.DataFrame, counts: Iterable[str], *, row_total: str | None = None,
             column_totals: bool = True, derived: dict[str, str] | None = None,
             threshold: int = THRESHOLD, marker: str = PRIMARY) -> pd.DataFrame:
    """Suppress a table that is not in the registry, its structure given by the caller: ``counts``,
    a ``row_total`` column (the row's sum of ``counts``), whether column totals are known, and
    ``derived`` columns (column -> the count it comes from)."""
    counts = tuple(c for c in counts if c != row_total)
    rel: list[Any] = [Total(c) for c in counts] if column_totals else []
    if row_total:
        rel.append(RowSum(row_total, counts))
        if column_totals:
            rel.append(Total(row_total))
    s = Spec("ad hoc table", counts=counts + ((row_total,) if row_total else ()), relations=tuple(rel),
             derived={k: (v,) for k, v in (derived or {}).items()})
    missing = [c for c in s.counts if c not in table.columns]
    if missing:
        from cscflow.errors import AnalysisError

        raise AnalysisError(f"no column(s) {missing} to suppress", hint=f"columns are {list(table.columns)}")
    out = protect(table, s, threshold).table
    if marker != PRIMARY:
        out = out.replace(PRIMARY, marker)
    return out


def suppress_value(n: float | int | None, threshold: int = THRESHOLD, marker: str = PRIMARY) -> float | int | str | None:
    """One count: ``marker`` for 1..threshold-1, else the count.

    >>> suppress_value(3), suppress_value(0), suppress_value(12)
    ('<5', 0, 12)
    """
    if n is None or (isinstance(n, float) and np.isnan(n)):
        return n
    return marker if 0 < n < threshold else n


__all__ = ["MARKER", "NOT_SUPPRESSED", "PRIMARY", "RULE", "SECONDARY", "SPECS", "THRESHOLD", "Disclosed",
           "disclose", "flow_method", "numeric", "pool_rare", "scrub", "spec", "suppress", "suppress_value"]
