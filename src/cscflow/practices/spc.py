"""Statistical process control for breach rates: a p-chart with NHS England's "Making Data Count" rules.

Each point is a month: ``late`` of ``n`` clocks due. The centre line is the pooled proportion
``p̄ = Σ late / Σ n`` over the baseline points (default: all, "limits from the data"); the limits at
each point are ``p̄ ± 3 sqrt(p̄ (1 - p̄) / n_i)`` (clipped to [0, 1]), so a month with few clocks has
wide limits. Special-cause variation is flagged by the rules of NHS England's Making Data Count as
implemented in the NHS-R community's NHSRplotthedots (0.2): a point outside the limits; a *shift* of 7
or more consecutive points on one side of the centre line (a point on the line breaks the run); a
*trend* of 7 or more consecutive points each higher (or each lower) than the one before; *two of
three* consecutive points beyond 2 sigma (nearer the limit than the centre) on the same side. Every
point of a qualifying run is flagged.

>>> pc = PChart().fit([5] * 12 + [20] * 8, [100] * 20)
>>> pc.signals_["rule"].unique().tolist()
['shift', 'two_in_three']
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cscflow.errors import AnalysisError

RULES = ("outside", "shift", "trend", "two_in_three")


def runs(flags: np.ndarray, length: int) -> np.ndarray:
    """True at every point of a run of at least ``length`` consecutive True values."""
    out = np.zeros(len(flags), dtype=bool)
    i = 0
    while i < len(flags):
        if not flags[i]:
            i += 1
            continue
        j = i
        while j < len(flags) and flags[j]:
            j += 1
        if j - i >= length:
            out[i:j] = True
        i = j
    return out


def signal_flags(p: np.ndarray, z: np.ndarray, shift: int = 7, trend: int = 7, sigma: float = 3.0,
                 near: float = 2.0) -> dict[str, np.ndarray]:
    """The four rules' flags for values ``p`` with standardised distances ``z`` from the centre line."""
    outside = np.abs(z) > sigma
    above, below = z > 0, z < 0
    shift_f = runs(above, shift) | runs(below, shift)
    up = np.r_[False, np.diff(p) > 0]
    down = np.r_[False, np.diff(p) < 0]
    # a trend of k points is k - 1 consecutive rises: flag the rises' run and the point it starts from
    trend_f = np.zeros(len(p), dtype=bool)
    for steps in (up, down):
        r = runs(steps, trend - 1)
        trend_f |= r | np.r_[r[1:], False]
    two = np.zeros(len(p), dtype=bool)
    for side in (z > near, z < -near):
        for i in range(len(p) - 2):
            if side[i:i + 3].sum() >= 2:
                two[i:i + 3] |= side[i:i + 3]
    return {"outside": outside, "shift": shift_f, "trend": trend_f, "two_in_three": two}


class PChart:
    """A p-chart of proportions (``late`` of ``n`` per period) with Making Data Count rules.

    ``baseline``: the number of leading points the centre line and limits are computed from (default:
    all). ``improvement``: "down" (a lower breach rate is better; default) or "up", used to call a
    signal *concern* or *improvement*.

    Fitted attributes: ``centre_``, ``table_`` / ``summary`` (label, n, late, p, centre, lower,
    upper, z, one column per rule, ``signal``, ``variation``), ``signals_`` (one row per flagged
    point and rule), ``method_``.
    """

    def __init__(self, baseline: int | None = None, improvement: str = "down", shift: int = 7, trend: int = 7,
                 sigma: float = 3.0) -> None:
        if improvement not in ("down", "up"):
            raise AnalysisError(f"improvement {improvement!r}", hint="use down (lower is better) or up")
        self.baseline, self.improvement, self.shift, self.trend, self.sigma = baseline, improvement, shift, trend, sigma

    def fit(self, late: Any, n: Any, labels: Any = None) -> PChart:
        """Fit to counts ``late`` of ``n`` per period (in time order); ``labels`` name the periods."""
        x = np.asarray(late, dtype=float)
        m = np.asarray(n, dtype=float)
        if x.shape != m.shape or x.ndim != 1 or len(x) == 0:
            raise AnalysisError(f"{x.size} counts for {m.size} denominators", hint="pass one of each per period")
        if (m <= 0).any() or (x < 0).any() or (x > m).any():
            i = int(np.flatnonzero((m <= 0) | (x < 0) | (x > m))[0])
            raise AnalysisError(f"period {i} has {x[i]!r} late of {m[i]!r}",
                                hint="drop empty periods; counts lie between 0 and the denominator")
        k = len(x) if self.baseline is None else int(self.baseline)
        if not 1 <= k <= len(x):
            raise AnalysisError(f"baseline of {k} periods for {len(x)}", hint="give 1 to the number of periods")
        pbar = float(x[:k].sum() / m[:k].sum())
        self.centre_ = pbar
        p = x / m
        sd = np.sqrt(pbar * (1 - pbar) / m)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(sd > 0, (p - pbar) / np.where(sd > 0, sd, 1), 0.0)
        flags = signal_flags(p, z, self.shift, self.trend, self.sigma)
        labels = [str(v) for v in (labels if labels is not None else range(len(x)))]
        t = pd.DataFrame({"label": labels, "n": m.astype("int64"), "late": x.astype("int64"), "p": p,
                          "centre": pbar, "lower": np.clip(pbar - self.sigma * sd, 0, 1),
                          "upper": np.clip(pbar + self.sigma * sd, 0, 1), "z": z})
        for rule in RULES:
            t[rule] = flags[rule]
        t["signal"] = t[list(RULES)].any(axis=1)
        worse = (z > 0) if self.improvement == "down" else (z < 0)
        t["variation"] = np.where(~t["signal"], "common cause", np.where(worse, "concern", "improvement"))
        self.table_ = t
        rows = [(lab, rule) for rule in RULES for lab in t.loc[t[rule], "label"]]
        self.signals_ = pd.DataFrame(rows, columns=["label", "rule"])
        return self

    @property
    def method_(self) -> str:
        """One sentence: the chart, the centre line and the rules, with what was found."""
        if not hasattr(self, "table_"):
            raise AnalysisError("the p-chart is not fitted yet", hint="call .fit(...) first")
        t = self.table_
        base = "all" if self.baseline is None else f"the first {self.baseline}"
        found = ", ".join(f"{r.replace('_', ' ')} {int(t[r].sum())}" for r in RULES if t[r].any()) or "none"
        return (f"p-chart of {len(t)} periods: centre line {100 * self.centre_:.1f}% from {base} periods, limits "
                f"at {self.sigma:g} sigma (binomial, each period's own denominator); Making Data Count rules "
                f"(outside the limits, a shift of {self.shift} on one side, a trend of {self.trend}, two of "
                f"three beyond 2 sigma): points flagged {found}.")

    @property
    def summary(self) -> pd.DataFrame:
        """One row per period with its limits and flags (:attr:`table_`)."""
        return self.table_

    def plot(self, title: str | None = None, subtitle: bool = True) -> Any:
        """Plotly chart: the rates, centre line and limits; special-cause points coloured (concern orange,
        improvement blue), the method as a subtitle (``subtitle=False``: a caption carries it instead)."""
        import plotly.graph_objects as go

        t = self.table_
        fig = go.Figure()
        fig.add_trace(go.Scatter(x=t["label"], y=t["upper"], mode="lines", name="upper limit",
                                 line={"color": "#888", "dash": "dash", "width": 1, "shape": "hvh"}))
        fig.add_trace(go.Scatter(x=t["label"], y=t["lower"], mode="lines", name="lower limit",
                                 line={"color": "#888", "dash": "dash", "width": 1, "shape": "hvh"}))
        fig.add_trace(go.Scatter(x=t["label"], y=t["centre"], mode="lines", name="centre",
                                 line={"color": "#222", "width": 1}))
        fig.add_trace(go.Scatter(x=t["label"], y=t["p"], mode="lines", name="breach rate",
                                 line={"color": "#bbb", "width": 1}, showlegend=False))
        for var, colour in (("common cause", "#7f7f7f"), ("concern", "#ed8b00"), ("improvement", "#005eb8")):
            sub = t[t["variation"] == var]
            if len(sub):
                fig.add_trace(go.Scatter(x=sub["label"], y=sub["p"], mode="markers", name=var,
                                         marker={"color": colour, "size": 8}, text=sub["n"].map("{} due".format)))
        head = title or "Breach rate"
        fig.update_layout(title={"text": head, "subtitle": {"text": self.method_ if subtitle else ""}},
                          yaxis={"title": "late / due", "tickformat": ".0%"}, template="simple_white")
        return fig


__all__ = ["RULES", "PChart", "runs", "signal_flags"]
