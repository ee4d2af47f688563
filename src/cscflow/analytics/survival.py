"""Kaplan-Meier survival curves with late entry, Greenwood intervals and the log-rank test.

Used for leaving-care curves (time from entering care to leaving it), time to re-referral,
time from referral to a CP plan or to care, and time to return to care. Formulas and
references: docs/methods.md. Checked against statsmodels and lifelines to 1e-9
(tests/analytics/test_survival.py).

>>> km = KaplanMeier().fit([3, 5, 5, 8, 10], [1, 1, 0, 1, 0])
>>> round(float(km.survival_at(5)[0]), 4), km.median_
(0.6, 8.0)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from cscflow.analytics._risk import RiskTable, describe_fit, tabulate, validate
from cscflow.errors import AnalysisError


def _step_lookup(grid: np.ndarray, values: np.ndarray, times: np.ndarray, before: float) -> np.ndarray:
    """Right-continuous step function: value at the last grid point <= t (``before`` if none)."""
    idx = np.searchsorted(grid, np.asarray(times, dtype=float), side="right") - 1
    return np.where(idx >= 0, values[np.maximum(idx, 0)], before)


class KaplanMeier:
    """The Kaplan-Meier (product-limit) estimator of a survival function.

    ``fit`` returns the fitter; results are attributes ending in ``_``:
    ``survival_function_`` (DataFrame indexed by time), ``confidence_interval_``
    (log(-log) intervals from Greenwood's variance), ``median_``,
    ``median_confidence_interval_``, ``event_table_`` (at risk, events, censored at
    each time). ``summary`` and ``at_risk_table(times)`` give tables; ``plot()`` a
    plotly figure.

    >>> km = KaplanMeier(label="in care").fit([10, 20, 20, 30], [1, 1, 1, 0])
    >>> km.survival_function_["in care"].round(3).tolist()
    [1.0, 0.75, 0.25, 0.25]
    """

    def __init__(self, alpha: float = 0.05, label: str = "survival") -> None:
        if not 0 < alpha < 1:
            raise AnalysisError(f"alpha must be between 0 and 1, got {alpha}", hint="use 0.05 for 95% intervals")
        self.alpha = alpha
        self.label = label

    # -- fitting ------------------------------------------------------------------------
    def fit(
        self,
        durations: Any,
        event_observed: Any = None,
        entry: Any = None,
        weights: Any = None,
        label: str | None = None,
    ) -> KaplanMeier:
        """Fit to exit times ``durations`` (days, or any unit), ``event_observed`` (1/True = the
        event happened, 0 = censored), optional ``entry`` times (left truncation: a child already
        in care when the data window opens enters the risk set after ``entry`` days), optional
        frequency ``weights``. Returns self."""
        if label is not None:
            self.label = label
        t, e, en, w = validate(durations, event_observed, entry, weights)
        rt = tabulate(t, e, en, w, 1)
        self._fit_table(rt, weighted=w is not None)
        self.method_ = describe_fit("Kaplan-Meier (product-limit) estimate", self.label, t, e, en)
        return self

    def _fit_table(self, rt: RiskTable, weighted: bool) -> None:
        for name in ("survival_function_", "confidence_interval_", "variance_", "event_table_", "_bands",
                     "median_confidence_interval_", "_var"):
            self.__dict__.pop(name, None)
        self._rt = rt
        n, d = rt.at_risk, rt.events[0]
        off = 1 if len(rt.time) == 0 or rt.time[0] > 0 else 0  # the curve starts at time 0 with S = 1
        size = len(rt.time) + off
        time = np.zeros(size)
        time[off:] = rt.time
        surv, gw = np.ones(size), np.zeros(size)
        with np.errstate(divide="ignore", invalid="ignore"):
            hazard = np.divide(d, n, out=np.zeros(len(n)), where=n > 0)
            np.cumprod(1.0 - hazard, out=surv[off:])
            # Greenwood: sum d / (n (n - d)); infinite once the curve reaches 0
            term = np.divide(d, n * (n - d), out=np.zeros(len(n)), where=d > 0)
            term[(d > 0) & (n <= d)] = np.inf
            np.cumsum(term, out=gw[off:])
        self.timeline_ = time
        self._surv, self._gw = surv, gw
        self._off = off
        self.median_ = self.quantile_time(0.5)
        self.weighted_ = weighted

    # -- intervals and tables, built on first use (cheap fits of millions of rows) ----------
    @cached_property
    def _bands(self) -> tuple[np.ndarray, np.ndarray]:
        surv, gw = self._surv, self._gw
        z = stats.norm.ppf(1 - self.alpha / 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            logs = np.log(surv)
            # log(-log S) has variance gw / (log S)^2; bounds S ** exp(+-z se) = exp(log S * exp(+-z se))
            zse = z * np.sqrt(gw) / np.abs(logs)
            lower = np.exp(logs * np.exp(zse))
            upper = np.exp(logs * np.exp(-zse))
        flat = surv >= 1.0
        lower[flat], upper[flat] = 1.0, 1.0
        zero = surv <= 0.0
        lower[zero], upper[zero] = 0.0, 0.0
        return lower, upper

    @cached_property
    def _var(self) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            var = np.where(self._surv > 0, self._surv**2 * self._gw, 0.0)  # Greenwood variance of S(t)
        if self._off:
            var[0] = 0.0
        return var

    @property
    def _lower(self) -> np.ndarray:
        return self._bands[0]

    @property
    def _upper(self) -> np.ndarray:
        return self._bands[1]

    @cached_property
    def median_confidence_interval_(self) -> tuple[float, float]:
        """Confidence interval of the median: where the lower and upper limits cross 0.5."""
        self._check()
        return self._first_below(self._lower, 0.5), self._first_below(self._upper, 0.5)

    @cached_property
    def survival_function_(self) -> pd.DataFrame:
        """S(t) at every distinct time (index ``time``), starting at 0."""
        self._check()
        return pd.DataFrame({self.label: self._surv}, index=pd.Index(self.timeline_, name="time"))

    @cached_property
    def confidence_interval_(self) -> pd.DataFrame:
        """Pointwise log(-log) confidence limits of S(t) from Greenwood's variance."""
        self._check()
        pct = round(100 * (1 - self.alpha))
        return pd.DataFrame(
            {f"{self.label}_lower_{pct}": self._lower, f"{self.label}_upper_{pct}": self._upper},
            index=pd.Index(self.timeline_, name="time"),
        )

    @cached_property
    def variance_(self) -> pd.Series:
        """Greenwood's variance of S(t)."""
        self._check()
        return pd.Series(self._var, index=pd.Index(self.timeline_, name="time"), name="greenwood_variance")

    @cached_property
    def event_table_(self) -> pd.DataFrame:
        """At risk, observed (events), censored and removed at each time."""
        self._check()
        rt, off = self._rt, self._off
        at_risk = np.r_[[rt.total] * off, rt.at_risk]
        obs = np.r_[[0.0] * off, rt.events[0]]
        rem = np.r_[[0.0] * off, rt.removed]
        return pd.DataFrame(
            {"at_risk": at_risk, "observed": obs, "censored": rem - obs, "removed": rem},
            index=pd.Index(self.timeline_, name="time"),
        )

    # -- results --------------------------------------------------------------------------
    def _check(self) -> None:
        if not hasattr(self, "_rt"):
            raise AnalysisError("this KaplanMeier has not been fitted", hint="call .fit(durations, events) first")

    def _first_below(self, curve: np.ndarray, p: float) -> float:
        hit = np.flatnonzero(curve <= p + 1e-15)
        return float(self.timeline_[hit[0]]) if len(hit) else float("inf")

    def quantile_time(self, p: float) -> float:
        """First time at which survival is at or below ``p`` (inf if never): the median for 0.5."""
        self._check()
        return self._first_below(self._surv, p)

    def survival_at(self, times: Any) -> np.ndarray:
        """S(t) at each of ``times`` (a right-continuous step function; 1 before the first time)."""
        self._check()
        return _step_lookup(self.timeline_, self._surv, np.atleast_1d(times), 1.0)

    def confidence_at(self, times: Any) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper pointwise confidence limits at ``times``."""
        self._check()
        tt = np.atleast_1d(times)
        return _step_lookup(self.timeline_, self._lower, tt, 1.0), _step_lookup(self.timeline_, self._upper, tt, 1.0)

    def at_risk_table(self, times: Any) -> pd.DataFrame:
        """At each of ``times``: children at risk, events and censorings so far (for under a plot)."""
        self._check()
        tt = np.asarray(np.atleast_1d(times), dtype=float)
        rt = self._rt
        done = np.searchsorted(rt.time, tt, side="right")
        cum_obs = np.r_[0.0, np.cumsum(rt.events[0])][done]
        cum_rem = np.r_[0.0, np.cumsum(rt.removed)][done]
        return pd.DataFrame(
            {"at_risk": rt.at_risk_at(tt), "events": cum_obs, "censored": cum_rem - cum_obs},
            index=pd.Index(tt, name="time"),
        )

    @property
    def summary(self) -> pd.DataFrame:
        """One row: children, events, censored, median and its confidence interval."""
        self._check()
        et = self.event_table_
        num = float if self.weighted_ else int
        return pd.DataFrame(
            [
                {
                    "label": self.label,
                    "children": num(self._rt.total),
                    "events": num(et["observed"].sum()),
                    "censored": num(et["censored"].sum()),
                    "median": self.median_,
                    "median_lower": self.median_confidence_interval_[0],
                    "median_upper": self.median_confidence_interval_[1],
                }
            ]
        )

    def curve(self) -> pd.DataFrame:
        """survival, lower, upper and at-risk by time, as one table (for CSV export)."""
        self._check()
        return pd.DataFrame(
            {
                "time": self.timeline_,
                "survival": self._surv,
                "lower": self._lower,
                "upper": self._upper,
                "at_risk": self.event_table_["at_risk"].to_numpy(),
                "events": self.event_table_["observed"].to_numpy(),
            }
        )

    def plot(self, fig: Any = None, color: str | None = None, show_ci: bool = True, **layout: Any) -> Any:
        """A plotly figure of the step curve with its confidence band."""
        from cscflow.analytics.plotting import step_figure

        self._check()
        return step_figure(
            [(self.label, self.timeline_, self._surv, self._lower, self._upper)],
            fig=fig,
            colors=[color] if color else None,
            show_ci=show_ci,
            **layout,
        )


@dataclass
class LogRankResult:
    """Result of a log-rank test: chi-squared statistic, degrees of freedom, p-value, and
    observed and expected events per group."""

    test_statistic: float
    degrees_of_freedom: int
    p_value: float
    table: pd.DataFrame

    @property
    def summary(self) -> pd.DataFrame:
        return pd.DataFrame(
            [{"test_statistic": self.test_statistic, "df": self.degrees_of_freedom, "p": self.p_value}]
        )


def logrank_test(durations: Any, event_observed: Any, groups: Any, entry: Any = None) -> LogRankResult:
    """The log-rank test that the survival curves of ``groups`` are the same (Mantel 1966).

    >>> r = logrank_test([1, 2, 3, 4, 5, 6], [1, 1, 1, 1, 1, 1], ["a", "b", "a", "b", "a", "b"])
    >>> r.degrees_of_freedom, round(r.p_value, 3)
    (1, 0.486)
    """
    t, e, en, _ = validate(durations, event_observed, entry, None)
    g = np.asarray(groups)
    if g.shape != t.shape:
        raise AnalysisError(f"groups has {g.size} values for {t.size} durations", hint="pass one group per row")
    labels, gi = np.unique(g, return_inverse=True)
    if len(labels) < 2:
        raise AnalysisError(f"the log-rank test needs two or more groups, found {len(labels)}", hint="check groups")
    ev = (e > 0).astype(np.int64)
    overall = tabulate(t, ev, en, None, 1)
    time, n, d = overall.time, overall.at_risk, overall.events[0]
    k = len(labels)
    n_g = np.empty((k, len(time)))
    d_g = np.empty((k, len(time)))
    for j in range(k):
        m = gi == j
        rt = tabulate(t[m], ev[m], None if en is None else en[m], None, 1)
        n_g[j] = rt.at_risk_at(time)
        idx = np.searchsorted(rt.time, time)
        idx_c = np.minimum(idx, len(rt.time) - 1)
        hit = (idx < len(rt.time)) & (rt.time[idx_c] == time)
        d_g[j] = np.where(hit, rt.events[0][idx_c], 0.0)
    use = (d > 0) & (n > 0)
    n, d, n_g, d_g = n[use], d[use], n_g[:, use], d_g[:, use]
    observed = d_g.sum(axis=1)
    expected = (d * n_g / n).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.where(n > 1, d * (n - d) / (n - 1), 0.0) / n
    p = n_g / n
    var = np.einsum("t,it,jt->ij", c * n, -p, p)  # -sum c n p_i p_j
    var[np.diag_indices(k)] += (c * n * p).sum(axis=1)
    diff = observed - expected
    stat = float(diff[:-1] @ np.linalg.pinv(var[:-1, :-1]) @ diff[:-1])
    df = k - 1
    table = pd.DataFrame({"group": labels, "observed": observed, "expected": expected})
    return LogRankResult(stat, df, float(stats.chi2.sf(stat, df)), table)


class KaplanMeierGroups:
    """One Kaplan-Meier curve per group, with the log-rank test between them.

    >>> kg = KaplanMeierGroups().fit([5, 8, 12, 20], [1, 1, 1, 0], ["a", "a", "b", "b"])
    >>> sorted(kg.fitters_), kg.summary["median"].tolist()
    (['a', 'b'], [5.0, 12.0])
    """

    def __init__(self, alpha: float = 0.05) -> None:
        self.alpha = alpha

    def fit(self, durations: Any, event_observed: Any, groups: Any, entry: Any = None) -> KaplanMeierGroups:
        t, e, en, _ = validate(durations, event_observed, entry, None)
        g = np.asarray(groups).astype(str)
        self.fitters_: dict[str, KaplanMeier] = {}
        for label in sorted(set(g.tolist())):
            m = g == label
            self.fitters_[label] = KaplanMeier(self.alpha, label=label).fit(
                t[m], e[m], None if en is None else en[m]
            )
        self.logrank_ = logrank_test(t, e, g, en) if len(self.fitters_) > 1 else None
        self.method_ = describe_fit(f"Kaplan-Meier (product-limit) estimates, one per group ({len(self.fitters_)}),",
                                    "survival", t, e, en)
        if self.logrank_ is not None:
            self.method_ += " Groups compared with the log-rank test."
        return self

    @property
    def summary(self) -> pd.DataFrame:
        return pd.concat([f.summary for f in self.fitters_.values()], ignore_index=True)

    def curves(self) -> pd.DataFrame:
        """All curves in one long table with a ``group`` column."""
        return pd.concat(
            [f.curve().assign(group=label) for label, f in self.fitters_.items()], ignore_index=True
        )

    def plot(self, **layout: Any) -> Any:
        from cscflow.analytics.plotting import step_figure

        series = [(lab, f.timeline_, f._surv, f._lower, f._upper) for lab, f in self.fitters_.items()]
        if self.logrank_ is not None and "title" in layout:
            layout["title"] = f"{layout['title']} (log-rank p = {self.logrank_.p_value:.3g})"
        return step_figure(series, **layout)
