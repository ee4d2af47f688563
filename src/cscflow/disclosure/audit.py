"""The attacker's view of a suppressed table: the interval each hidden count can take.

A table's additive structure is a set of linear equations over its cells (``sum(coef * x) = 0``).
A reader knows every shown cell, that a cell shown as ``<5`` lies in 1..4 and that a cell withheld
to protect another (``[c]``) is at least 5 (it is neither 0 nor 1-4). For each hidden count this
module finds the smallest and largest value it can take (two linear programmes, scipy's HiGHS, one
connected block of equations at a time). A count is disclosed when fewer than two whole numbers
remain possible: this is the audit tau-ARGUS and sdcTable run after secondary suppression.

Most blocks need no solver: a single equation has a closed form, and a block whose equations leave
its hidden counts at most one degree of freedom (the solutions of ``A x = b`` form a point or a line
through the true values) is a segment cut by the bounds, read off exactly. Only blocks with two or
more degrees of freedom go to the LP, and scipy (0.3-0.5 s to import) is imported only then.

>>> import numpy as np
>>> # of = 10 shown, n1 = 3 hidden (<5), n2 = 7 shown: n1 = 10 - 7 exactly
>>> rel = [[(0, -1.0), (1, 1.0), (2, 1.0)]]
>>> bounds = {1: (1.0, 4.0)}
>>> feasible_ranges(np.array([10.0, 3.0, 7.0]), bounds, rel, [1])
{1: (3.0, 3.0)}
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

Term = tuple[int, float]


def _components(unknown: set[int], relations: Sequence[Sequence[Term]]) -> list[tuple[set[int], list[int]]]:
    parent: dict[int, int] = {v: v for v in unknown}

    def find(v: int) -> int:
        while parent[v] != v:
            parent[v] = parent[parent[v]]
            v = parent[v]
        return v

    for rel in relations:
        vs = [v for v, _ in rel if v in unknown]
        for a, b in zip(vs, vs[1:], strict=False):
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[ra] = rb
    groups: dict[int, tuple[set[int], list[int]]] = {}
    for v in unknown:
        groups.setdefault(find(v), (set(), []))[0].add(v)
    for k, rel in enumerate(relations):
        vs = [v for v, _ in rel if v in unknown]
        if vs:
            groups[find(vs[0])][1].append(k)
    return list(groups.values())


def feasible_ranges(
    values: np.ndarray,
    bounds: dict[int, tuple[float, float | None]],
    relations: Sequence[Sequence[Term]],
    targets: Sequence[int],
) -> dict[int, tuple[float, float]]:
    """(lowest, highest) value of each of ``targets`` given the shown values.

    ``values`` holds every variable's true value (only those not in ``bounds`` are read: they are
    the shown ones); ``bounds`` maps each hidden variable to what the reader knows of it (upper
    None = unbounded); ``relations`` are the equations."""
    unknown = set(bounds)
    out: dict[int, tuple[float, float]] = {}
    want = set(targets)
    for comp, rel_ids in _components(unknown, relations):
        goals = sorted(comp & want)
        if not goals:
            continue
        if not rel_ids:
            for g in goals:
                lo, hi = bounds[g]
                out[g] = (lo, np.inf if hi is None else hi)
            continue
        if len(rel_ids) == 1:
            out.update(_one_equation(values, bounds, relations[rel_ids[0]], comp, goals))
            continue
        order = sorted(comp)
        col = {v: i for i, v in enumerate(order)}
        a = np.zeros((len(rel_ids), len(order)))
        b = np.zeros(len(rel_ids))
        for r, k in enumerate(rel_ids):
            for v, coef in relations[k]:
                if v in comp:
                    a[r, col[v]] += coef
                else:
                    b[r] -= coef * values[v]
        bnds = [bounds[v] for v in order]
        exact = _segment(a, b, np.array([values[v] for v in order]), bnds, [col[g] for g in goals])
        if exact is not None:
            out.update(zip(goals, exact, strict=True))
            continue
        from scipy.optimize import linprog  # only here: importing it costs more than most tables

        for g in goals:
            c = np.zeros(len(order))
            c[col[g]] = 1.0
            lo = linprog(c, A_eq=a, b_eq=b, bounds=bnds, method="highs")
            hi = linprog(-c, A_eq=a, b_eq=b, bounds=bnds, method="highs")
            low = lo.fun if lo.status == 0 else (bounds[g][0] if lo.status == 3 else np.nan)
            high = -hi.fun if hi.status == 0 else (np.inf if hi.status == 3 else np.nan)
            out[g] = (float(low), float(high))
    return out


def _segment(a: np.ndarray, b: np.ndarray, x: np.ndarray, bnds: Sequence[tuple[float, float | None]],
             goals: Sequence[int]) -> list[tuple[float, float]] | None:
    """Ranges of columns ``goals`` when ``x`` (the true values) solves ``a x = b`` within ``bnds`` and the
    solutions of ``a x = b`` are ``x`` alone or the line ``x + t d``: the point, or the segment of the line
    inside the bounds (what the LP would give). None when there are more degrees of freedom (or ``x`` does
    not fit: then the LP decides)."""
    lo = np.array([low for low, _ in bnds], dtype=float)
    hi = np.array([math.inf if high is None else high for _, high in bnds], dtype=float)
    scale = max(1.0, float(np.abs(b).max(initial=0.0)), float(np.abs(x).max(initial=0.0)))
    if (np.abs(a @ x - b).max(initial=0.0) > 1e-9 * scale or (x < lo - 1e-9).any()
            or (x > hi + 1e-9).any()):
        return None
    _, sv, vt = np.linalg.svd(a)
    rank = int((sv > 1e-9 * max(1.0, float(sv.max(initial=0.0)))).sum())
    free = a.shape[1] - rank
    if free == 0:
        return [(float(x[g]), float(x[g])) for g in goals]
    if free > 1:
        return None
    d = vt[-1]
    d = np.where(np.abs(d) < 1e-12, 0.0, d)
    t_lo, t_hi = -math.inf, math.inf
    for i in np.flatnonzero(d):  # lo[i] <= x[i] + t d[i] <= hi[i]
        ends = ((lo[i] - x[i]) / d[i], (hi[i] - x[i]) / d[i])
        t_lo, t_hi = max(t_lo, min(ends)), min(t_hi, max(ends))
    out = []
    for g in goals:
        if d[g] == 0:
            out.append((float(x[g]), float(x[g])))
            continue
        ends = (float(x[g] + t_lo * d[g]), float(x[g] + t_hi * d[g]))  # d[g] != 0: no 0 * inf
        out.append((min(ends), max(ends)))
    return out


def _one_equation(values: np.ndarray, bounds: dict[int, tuple[float, float | None]], rel: Sequence[Term], comp: set[int],
                  goals: list[int]) -> dict[int, tuple[float, float]]:
    """Ranges from a single equation sum(c x) = b, in closed form (what the LP would give)."""
    coef: dict[int, float] = {}
    b = 0.0
    for v, c in rel:
        if v in comp:
            coef[v] = coef.get(v, 0.0) + c
        else:
            b -= c * values[v]
    lo = {v: bounds[v][0] for v in coef}
    hi = {v: math.inf if (top := bounds[v][1]) is None else top for v in coef}
    low_part = {v: c * lo[v] if c > 0 else c * hi[v] for v, c in coef.items()}
    high_part = {v: c * hi[v] if c > 0 else c * lo[v] for v, c in coef.items()}
    # sums without one term, in O(1) each: the finite parts summed, infinite parts counted
    fin_low = sum(x for x in low_part.values() if math.isfinite(x))
    fin_high = sum(x for x in high_part.values() if math.isfinite(x))
    inf_low = sum(1 for x in low_part.values() if not math.isfinite(x))
    inf_high = sum(1 for x in high_part.values() if not math.isfinite(x))
    out = {}
    for g in goals:
        c = coef.get(g, 0.0)
        if c == 0:
            out[g] = (float(lo[g]), float(hi[g]))
            continue
        own_low, own_high = low_part[g], high_part[g]
        rest_low = (fin_low - (own_low if math.isfinite(own_low) else 0.0)
                    if inf_low - (0 if math.isfinite(own_low) else 1) == 0 else -math.inf)
        rest_high = (fin_high - (own_high if math.isfinite(own_high) else 0.0)
                     if inf_high - (0 if math.isfinite(own_high) else 1) == 0 else math.inf)
        a, z = (b - rest_high) / c, (b - rest_low) / c
        a, z = min(a, z), max(a, z)
        out[g] = (float(max(lo[g], a)), float(min(hi[g], z)))
    return out


def disclosed(ranges: dict[int, tuple[float, float]], tol: float = 1e-6) -> list[int]:
    """The variables whose range holds fewer than two whole numbers (their value is known)."""
    return [v for v, (lo, hi) in ranges.items()
            if math.isfinite(lo) and math.isfinite(hi) and math.floor(hi + tol) - math.ceil(lo - tol) < 1]


__all__ = ["disclosed", "feasible_ranges"]
