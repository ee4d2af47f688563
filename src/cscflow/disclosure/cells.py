"""Primary and secondary cell suppression of one declared table.

Primary: a count from 1 to ``threshold - 1`` is shown as ``<5`` (zero is shown). Secondary: the
table's relations (:mod:`cscflow.disclosure.registry`) become linear equations over its cells plus
the unpublished ones (remainders, differences of cumulative counts, totals known from elsewhere).
First no equation may keep exactly one unknown; then the audit (:mod:`cscflow.disclosure.audit`)
computes what a reader could still deduce and, while a count of 1-4 (shown or unpublished) is
known exactly, the smallest shown non-zero count of one of its equations is withheld too, shown as
``[c]``. Columns derived from a hidden count are blanked.

>>> import pandas as pd
>>> from cscflow.disclosure.registry import spec
>>> t = pd.DataFrame({"source": ["a", "a", "b"], "target": ["x", "y", "x"], "n": [3, 12, 40],
...                   "of": [15, 15, 40], "rate": [0.2, 0.8, 1.0]})
>>> protect(t, spec("conversion")).table.values.tolist()
[['a', 'x', '<5', 15, None], ['a', 'y', '[c]', 15, None], ['b', 'x', 40, 40, 1.0]]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from cscflow.disclosure.audit import disclosed, feasible_ranges
from cscflow.disclosure.registry import Balance, Cumulative, RowSum, Spec, Total

PRIMARY = "<5"
SECONDARY = "[c]"


@dataclass
class Protected:
    """A suppressed table and what was done to it."""

    table: pd.DataFrame
    primary: int = 0
    secondary: int = 0
    blanked: int = 0
    unprotected: int = 0  # counts of 1-4 still deducible (none on any table tested; reported if it happens)
    hidden: dict[str, np.ndarray] = field(default_factory=dict)


class _Cells:
    """Variables (cells, unpublished counts, known totals) and equations of one table."""

    def __init__(self, table: pd.DataFrame, spec: Spec, threshold: int) -> None:
        self.t, self.threshold = table.reset_index(drop=True), threshold
        self.values: list[float] = []
        self.kind: list[str] = []  # cell | implicit (unpublished) | known (from elsewhere) | linked (<5 elsewhere)
        self.where: dict[tuple[str, int], int] = {}
        self.relations: list[list[tuple[int, float]]] = []
        keyed: dict[tuple[Any, ...], int] = {}
        for col in spec.counts:
            if col not in self.t.columns:
                continue
            vals = pd.to_numeric(self.t[col], errors="coerce").to_numpy(dtype=float)
            keys = [k for k in spec.keys.get(col, ()) if k in self.t.columns]
            rows = np.flatnonzero(np.isfinite(vals))
            if not keys:  # one variable per shown cell, in row order (as the keyed loop below numbers them)
                first = len(self.values)
                self.values.extend(vals[rows].tolist())
                self.kind.extend(["cell"] * len(rows))
                self.where.update(zip([(col, i) for i in rows.tolist()], range(first, first + len(rows)), strict=True))
                continue
            key_values = [self.t[c].to_numpy(dtype=object)[rows].tolist() for c in keys]
            for i, *key in zip(rows.tolist(), *key_values, strict=True):
                k = (col, *key)
                if k not in keyed:
                    keyed[k] = self._new(vals[i], "cell")
                self.where[(col, i)] = keyed[k]
        for rel in spec.relations:
            self._add(rel)

    def _new(self, value: float, kind: str) -> int:
        self.values.append(float(value))
        self.kind.append(kind)
        return len(self.values) - 1

    def _equation(self, total: int | None, parts: list[int]) -> None:
        """total = sum(parts) (+ an unpublished remainder when they fall short); total None = known."""
        parts = list(dict.fromkeys(parts))
        s = sum(self.values[p] for p in parts)
        if total is None:  # known from elsewhere, unless it is itself 1-4 (then it is <5 wherever shown)
            total = self._new(s, "known" if s == 0 or s >= self.threshold else "linked")
        gap = self.values[total] - s
        if gap < -1e-9:
            return  # not a partition (overlapping categories): no equation
        terms = [(total, -1.0)] + [(p, 1.0) for p in parts]
        if gap > 1e-9:
            terms.append((self._new(gap, "implicit"), 1.0))
        self.relations.append(terms)

    def _add(self, rel: object) -> None:
        n = len(self.t)
        if isinstance(rel, RowSum):
            for i in range(n):
                tot = self.where.get((rel.total, i))
                found = [self.where.get((p, i)) for p in rel.parts]
                if tot is None or any(p is None for p in found):
                    continue
                self._equation(tot, [p for p in found if p is not None])
        elif isinstance(rel, Total):
            if rel.part not in self.t.columns or (rel.total and rel.total not in self.t.columns):
                return
            by = [c for c in rel.by if c in self.t.columns]
            groups = self.t.groupby(by, sort=False, dropna=False).indices.values() if by else [np.arange(n)]
            for rows in groups:
                tot = None
                if rel.total_row:
                    col, label = rel.total_row
                    if col not in self.t.columns:
                        return
                    is_total = (self.t[col].astype(str) == label).to_numpy()[rows]
                    if is_total.sum() != 1:
                        continue
                    tot = self.where.get((rel.part, int(rows[is_total][0])))
                    rows = rows[~is_total]
                    if tot is None:
                        continue
                parts = [self.where[(rel.part, int(i))] for i in rows if (rel.part, int(i)) in self.where]
                if not parts:
                    continue
                if rel.total:
                    tot = self.where.get((rel.total, int(rows[0])))
                    if tot is None:
                        continue
                self._equation(tot, parts)
        elif isinstance(rel, Balance):
            if not {rel.column, rel.into, rel.out_of} <= set(self.t.columns):
                return
            into, out_of = self.t[rel.into].astype(str).to_numpy(), self.t[rel.out_of].astype(str).to_numpy()
            for node in sorted(set(into) & set(out_of)):
                terms = [(self.where[(rel.column, i)], 1.0) for i in range(n)
                         if into[i] == node and (rel.column, i) in self.where]
                terms += [(self.where[(rel.column, i)], -1.0) for i in range(n)
                          if out_of[i] == node and (rel.column, i) in self.where]
                if abs(sum(self.values[v] * c for v, c in terms)) < 1e-9:
                    self.relations.append(terms)
        elif isinstance(rel, Cumulative):
            if rel.column not in self.t.columns or rel.order not in self.t.columns:
                return
            by = [c for c in rel.by if c in self.t.columns]
            groups = self.t.groupby(by, sort=False).indices.values() if by else [np.arange(n)]
            for rows in groups:
                rows = sorted(rows, key=lambda i: self.t.at[i, rel.order])
                cells = [self.where[(rel.column, i)] for i in rows if (rel.column, i) in self.where]
                for a, b in zip(cells, cells[1:], strict=False):
                    self._equation(b, [a])


def _bounds(c: _Cells, hidden: np.ndarray, secondary: np.ndarray, threshold: int
            ) -> dict[int, tuple[float, float | None]]:
    out: dict[int, tuple[float, float | None]] = {}
    for v, kind in enumerate(c.kind):
        if kind == "implicit":
            out[v] = (0.0, None)
        elif kind == "linked":
            out[v] = (1.0, float(threshold - 1))
        elif hidden[v]:
            out[v] = (float(threshold), None) if secondary[v] else (1.0, float(threshold - 1))
    return out


def protect(table: pd.DataFrame, spec: Spec, threshold: int = 5, audit: bool = True) -> Protected:
    """Suppress ``table`` (declared by ``spec``); see the module docstring."""
    c = _Cells(table, spec, threshold)
    vals = np.asarray(c.values, dtype=float)
    kind = np.asarray(c.kind)
    small = (vals >= 1) & (vals < threshold)
    hidden = (kind == "cell") & small
    secondary = np.zeros(len(vals), dtype=bool)
    sensitive = np.flatnonzero(small & (kind != "known"))

    def hide_smallest(rel: list[tuple[int, float]]) -> bool:
        cand = [v for v, _ in rel if kind[v] == "cell" and not hidden[v] and vals[v] > 0]
        if not cand:
            return False
        k = min(cand, key=lambda v: vals[v])
        hidden[k] = secondary[k] = True
        return True

    changed = True
    while changed:  # no equation may keep exactly one unknown
        changed = False
        for rel in c.relations:
            unknown = [v for v, _ in rel if hidden[v] or kind[v] in ("implicit", "linked")]
            if len(unknown) == 1 and (hidden[unknown[0]] or small[unknown[0]]):
                changed |= hide_smallest(rel)
    unprotected: list[int] = []
    hopeless: set[int] = set()
    if audit and len(sensitive) and c.relations:
        # counts no suppression within this table can protect (a total known from elsewhere minus
        # counts known from elsewhere): reported, and not chased by hiding everything else
        every = hidden | ((kind == "cell") & (vals > 0))
        bounds = _bounds(c, every, every & ~small, threshold)
        hopeless = set(disclosed(feasible_ranges(vals, bounds, c.relations, [int(v) for v in sensitive])))
        for _ in range(200):
            bounds = _bounds(c, hidden, secondary, threshold)
            targets = [int(v) for v in sensitive if v in bounds and int(v) not in hopeless]
            unprotected = disclosed(feasible_ranges(vals, bounds, c.relations, targets))
            if not unprotected:
                break
            progress = False
            for v in unprotected:
                progress |= _widen(c.relations, v, hide_smallest)
            if not progress:
                break
    return _render(c, spec, hidden, secondary, len(unprotected) + len(hopeless))


def _widen(relations: list[list[tuple[int, float]]], v: int, hide_smallest: object) -> bool:
    """Withhold one more count in the equations nearest to ``v`` (its own first, then those linked to
    them through other unknowns), the smallest candidate of the first equation that has one."""
    seen_vars, seen_rels, frontier = {v}, set(), {v}
    while frontier:
        nxt: set[int] = set()
        for k, rel in enumerate(relations):
            if k in seen_rels or not any(u in frontier for u, _ in rel):
                continue
            seen_rels.add(k)
            if hide_smallest(rel):  # type: ignore[operator]
                return True
            nxt |= {u for u, _ in rel} - seen_vars
        seen_vars |= nxt
        frontier = nxt
    return False


def _render(c: _Cells, spec: Spec, hidden: np.ndarray, secondary: np.ndarray, unprotected: int) -> Protected:
    out = c.t.copy()
    res = Protected(out, unprotected=unprotected)
    row_hidden = np.zeros(len(out), dtype=bool)
    for col in spec.counts:
        if col not in out.columns:
            continue
        ids = np.array([c.where.get((col, i), -1) for i in range(len(out))], dtype=np.int64)
        mask = np.append(hidden, False)[ids]  # -1 (no variable) reads the appended False
        sec = np.append(secondary, False)[ids]
        res.hidden[col] = mask
        row_hidden |= mask
        if mask.any():
            out[col] = out[col].astype(object)
            out.loc[mask & ~sec, col] = PRIMARY
            out.loc[sec, col] = SECONDARY
    res.primary = int(sum(hidden[v] and not secondary[v] for v in set(c.where.values())))
    res.secondary = int(sum(secondary[v] for v in set(c.where.values())))
    for col, sources in spec.derived.items():
        if col not in out.columns:
            continue
        if "*" in sources:
            mask = np.full(len(out), bool(row_hidden.any()))
        else:
            mask = np.zeros(len(out), dtype=bool)
            for s in sources:
                mask |= res.hidden.get(s, np.zeros(len(out), dtype=bool))
        mask &= out[col].notna().to_numpy()
        if mask.any():
            out[col] = out[col].astype(object)
            out.loc[mask, col] = None
            res.blanked += int(mask.sum())
    return res


__all__ = ["PRIMARY", "SECONDARY", "Protected", "protect"]
