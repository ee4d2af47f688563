"""Risk-set tabulation shared by the Kaplan-Meier, log-rank and Aalen-Johansen estimators.

Vectorised numpy: day-level (integer) times are counted with ``bincount`` in O(n); other
times are sorted once. A subject with entry time ``e`` and exit time ``t`` is at risk at
time ``u`` when ``e < u <= t`` (the counting-process convention, as statsmodels); with no
entry given every subject is at risk from time 0 inclusive, so events on day 0 count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cscflow.errors import AnalysisError

#: Integer times spanning at most this many days (and at most 4 x n) use the bincount path.
_MAX_DAY_RANGE = 50_000_000


@dataclass
class RiskTable:
    """Counts at each distinct exit time ``time`` (sorted ascending)."""

    time: np.ndarray  # distinct exit times
    at_risk: np.ndarray  # (weighted) number at risk just before each time
    removed: np.ndarray  # exits at each time (events + censored)
    events: np.ndarray  # shape (k, len(time)): events of each cause at each time
    sorted_exit: np.ndarray  # all exit times, sorted (for at-risk counts at any time)
    cum_exit_w: np.ndarray | None  # cumulative weights along sorted_exit (None when unweighted)
    sorted_entry: np.ndarray | None
    cum_entry_w: np.ndarray | None
    total: float

    def at_risk_at(self, times: np.ndarray) -> np.ndarray:
        """Number at risk at each of ``times`` (entered before, not yet exited)."""
        times = np.asarray(times, dtype=float)
        gone = _count_before(self.sorted_exit, self.cum_exit_w, times)
        if self.sorted_entry is None:
            return self.total - gone
        at_risk: np.ndarray = _count_before(self.sorted_entry, self.cum_entry_w, times) - gone
        return at_risk


def _count_before(sorted_values: np.ndarray, cum_w: np.ndarray | None, times: np.ndarray) -> np.ndarray:
    idx = np.searchsorted(sorted_values, times, side="left")
    if cum_w is None:
        return idx.astype(float)
    return np.where(idx > 0, cum_w[np.maximum(idx - 1, 0)], 0.0)


def as_array(values: object, name: str, *, dtype: type = float) -> np.ndarray:
    """A 1-d numpy array from a list, Series or array, refusing NaN and infinities."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise AnalysisError(f"{name} must be one-dimensional, got shape {arr.shape}", hint="pass a column")
    if dtype is float:
        if arr.dtype.kind not in "iuf b":
            try:
                arr = arr.astype(float)
            except (TypeError, ValueError):
                raise AnalysisError(
                    f"{name} holds non-numeric values such as {arr[0]!r}", hint="pass numbers of days"
                ) from None
        if arr.dtype.kind == "f":
            bad = ~np.isfinite(arr)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise AnalysisError(
                    f"{name} has a missing or infinite value at row {i} ({arr[i]!r})",
                    hint="drop the row or set a censoring time",
                )
    return arr


def validate(
    durations: object, event: object, entry: object | None, weights: object | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Check and convert fitter inputs; ``event`` is returned as int64 cause codes (0 = censored)."""
    t = as_array(durations, "durations")
    n = len(t)
    if n == 0:
        raise AnalysisError("no durations given", hint="the cohort is empty; widen the selection")
    if (t < 0).any():
        i = int(np.flatnonzero(t < 0)[0])
        raise AnalysisError(
            f"durations has a negative value at row {i} ({t[i]!r})", hint="check that end dates follow start dates"
        )
    e = np.ones(n, dtype=np.int64) if event is None else np.asarray(event)
    if e.shape != (n,):
        raise AnalysisError(f"event_observed has {e.size} values for {n} durations", hint="pass one per row")
    if e.dtype.kind == "b":
        pass  # booleans are cause codes 0/1 as they are
    elif e.dtype.kind == "f":
        if not np.all(np.isfinite(e)) or not np.all(e == np.round(e)):
            i = int(np.flatnonzero(~np.isfinite(e) | (e != np.round(e)))[0])
            raise AnalysisError(f"event_observed row {i} is {e[i]!r}", hint="use 0 (censored) or 1, 2, ...")
        e = e.astype(np.int64)
    elif e.dtype.kind not in "iu":
        raise AnalysisError(f"event_observed has type {e.dtype}", hint="use booleans or integer codes")
    if e.dtype.kind != "b" and (e < 0).any():
        i = int(np.flatnonzero(e < 0)[0])
        raise AnalysisError(f"event_observed row {i} is {e[i]}", hint="use 0 (censored) or 1, 2, ...")
    en = None
    if entry is not None:
        en = as_array(entry, "entry")
        if en.shape != (n,):
            raise AnalysisError(f"entry has {en.size} values for {n} durations", hint="pass one per row")
        late = en > t
        if late.any():
            i = int(np.flatnonzero(late)[0])
            raise AnalysisError(
                f"entry at row {i} ({en[i]!r}) is after the exit time ({t[i]!r})",
                hint="entry is the time the child came under observation, on the same clock as durations",
            )
    w = None
    if weights is not None:
        w = as_array(weights, "weights")
        if w.shape != (n,) or (w < 0).any():
            raise AnalysisError("weights must be one non-negative number per row", hint="check the weights column")
    return t, e, en, w


def describe_fit(estimator: str, label: str, t: np.ndarray, e: np.ndarray, en: np.ndarray | None) -> str:
    """A plain-English sentence on what a fitter was fitted to (the callers in
    :mod:`cscflow.analytics.ready` replace it with one naming the data's dates)."""
    late = 0 if en is None else int((en > 0).sum())
    entry = (f"; {late:,} entered the risk set late (left truncation: counted only from when the data "
             "first saw them)" if late else "; no late entry (every row observed from its start)")
    return (f"{estimator} of {label}: {len(t):,} rows, {int((e > 0).sum()):,} events, "
            f"{int((e == 0).sum()):,} censored{entry}.")


def _is_day_level(t: np.ndarray) -> bool:
    span: float
    if t.dtype.kind in "iu":
        span = int(t.max()) if len(t) else 0
    else:
        head = t[:1000]
        if not np.array_equal(head, np.floor(head)) or not np.array_equal(t, np.floor(t)):
            return False
        span = float(t.max())
    return span < _MAX_DAY_RANGE and span <= 4 * len(t) + 1000


def tabulate(
    t: np.ndarray, e: np.ndarray, entry: np.ndarray | None, w: np.ndarray | None, n_causes: int
) -> RiskTable:
    """Counts at each distinct exit time; ``e`` holds cause codes 0..n_causes (0 = censored)."""
    if entry is not None:
        observed = entry < t  # a row whose entry equals its exit is never at risk
        if not observed.all():
            t, e, entry = t[observed], e[observed], entry[observed]
            w = None if w is None else w[observed]
        if len(t) == 0:
            raise AnalysisError("no row is ever at risk (every entry equals its exit)", hint="check entry")
    n = len(t)
    total = float(n if w is None else w.sum())
    sorted_exit = None
    if _is_day_level(t) and w is None:
        ti = t.astype(np.int64)
        size = int(ti.max()) + 1
        removed_all = np.bincount(ti, minlength=size).astype(float)
        keep = np.flatnonzero(removed_all)
        time = keep.astype(float)
        removed = removed_all[keep]
        ev = np.empty((n_causes, len(keep)))
        if n_causes == 1:
            ev[0] = np.bincount(ti, weights=(e > 0), minlength=size)[keep]
        else:
            for k in range(1, n_causes + 1):
                ev[k - 1] = np.bincount(ti, weights=(e == k), minlength=size)[keep]
        # sorted exit times from the counts, without a comparison sort
        sorted_exit = np.repeat(np.arange(size, dtype=float), removed_all.astype(np.int64))
        cum_exit_w = None
        exited_before = np.cumsum(removed) - removed
    elif w is None and n_causes == 1:
        # one sort: a non-negative float64's bits, shifted left past the (zero) sign bit, sort
        # like the float; the freed low bit carries the event flag
        key = (np.ascontiguousarray(t, dtype=np.float64) + 0.0).view(np.uint64) << np.uint64(1)
        key |= e if e.dtype.kind == "b" else e > 0
        key.sort()
        ev_sorted = key & np.uint64(1)
        key >>= np.uint64(1)
        ts = key.view(np.float64)
        new = np.empty(n, dtype=bool)
        new[0] = True
        np.not_equal(ts[1:], ts[:-1], out=new[1:])
        starts = np.flatnonzero(new)
        time = ts[starts]
        removed = np.diff(starts, append=n).astype(float)
        ev = np.add.reduceat(ev_sorted, starts).astype(float)[None, :]
        cum_exit_w = None
    else:
        order = np.argsort(t, kind="stable")
        ts = t[order]
        starts = np.flatnonzero(np.r_[True, ts[1:] != ts[:-1]])
        time = ts[starts].astype(float)
        wo = np.ones(n) if w is None else w[order]
        eo = e[order]
        removed = np.add.reduceat(wo, starts)
        ev = np.empty((n_causes, len(starts)))
        for k in range(1, n_causes + 1):
            mask = (eo > 0) if n_causes == 1 else (eo == k)
            ev[k - 1] = np.add.reduceat(np.where(mask, wo, 0.0), starts)
        cum_exit_w = None if w is None else np.cumsum(wo)
    if sorted_exit is None:
        sorted_exit = ts
        exited_before = np.cumsum(removed) - removed
    sorted_entry = cum_entry_w = None
    if entry is None:
        at_risk = total - exited_before
    else:
        if w is None:
            sorted_entry = np.sort(entry).astype(float)
            entered = np.searchsorted(sorted_entry, time, side="left").astype(float)
        else:
            eorder = np.argsort(entry, kind="stable")
            sorted_entry = entry[eorder].astype(float)
            cum_entry_w = np.cumsum(w[eorder])
            entered = _count_before(sorted_entry, cum_entry_w, time)
        at_risk = entered - exited_before
    return RiskTable(
        time=time,
        at_risk=at_risk,
        removed=removed,
        events=ev,
        sorted_exit=sorted_exit,
        cum_exit_w=cum_exit_w,
        sorted_entry=sorted_entry,
        cum_entry_w=cum_entry_w,
        total=total,
    )
