"""Competing routes out of care: the Aalen-Johansen cumulative incidence, exact with ties.

Children leave care by one of several routes (home, SGO, adoption, 18+, other); the
cumulative incidence of route k by time t is the probability of having left by route k by t:

    F_k(t) = sum over event times u <= t of S(u-) * d_k(u) / n(u)

with S the all-cause Kaplan-Meier curve, d_k(u) the leavers by route k at u and n(u) the
number at risk. Tied days are counted together (no jitter) and day-0 leavers count (with no
entry times every child is at risk from day 0 inclusive). Late entry as in
:mod:`cscflow.analytics.survival`. Standard errors by the delta method (Marubini and Valsecchi
1995, as statsmodels' CumIncidenceRight). See docs/methods.md.

>>> ci = CumulativeIncidence().fit([0, 2, 2, 5, 7], ["home", "sgo", "home", None, "home"])
>>> ci.cumulative_incidence_.loc[2.0].round(4).to_dict()
{'home': 0.4, 'sgo': 0.2}
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from cscflow.analytics._risk import describe_fit, tabulate, validate
from cscflow.errors import AnalysisError

CENSORED = (None, "", "censored", 0, "0")


def encode_routes(events: Any, causes: list[str] | None = None) -> tuple[np.ndarray, list[str]]:
    """Route labels -> codes 1..k (0 = censored: None, NaN, '', 'censored' or 0)."""
    arr = pd.Series(np.asarray(events, dtype=object))
    censored = arr.isna() | arr.isin([c for c in CENSORED if c is not None])
    labels = arr[~censored].astype(str)
    found = sorted(labels.unique().tolist())
    if causes is None:
        causes = found
    else:
        unknown = sorted(set(found) - set(causes))
        if unknown:
            raise AnalysisError(
                f"routes {unknown} are not among the causes given {causes}", hint="add them to causes or recode"
            )
    codes = np.zeros(len(arr), dtype=np.int64)
    lookup = {c: i + 1 for i, c in enumerate(causes)}
    codes[~censored.to_numpy()] = labels.map(lookup).to_numpy()
    return codes, list(causes)


class CumulativeIncidence:
    """Aalen-Johansen estimator of the cumulative incidence of competing routes.

    ``fit(durations, routes, entry=None)``: ``routes`` holds each child's route label (None
    or '' when still in care, i.e. censored). Results: ``cumulative_incidence_`` (DataFrame,
    time x route), ``standard_error_``, ``confidence_interval_`` (log(-log) pointwise),
    ``survival_`` (all-cause Kaplan-Meier, still in care), ``event_table_``.

    >>> ci = CumulativeIncidence().fit([1, 1, 2], ["a", "b", "a"])
    >>> ci.at(1).round(4).to_dict()
    {'a': 0.3333, 'b': 0.3333}
    """

    def __init__(self, alpha: float = 0.05) -> None:
        self.alpha = alpha

    def fit(
        self,
        durations: Any,
        routes: Any,
        entry: Any = None,
        weights: Any = None,
        causes: list[str] | None = None,
    ) -> CumulativeIncidence:
        """Fit; ``causes`` fixes the order (and set) of routes. Returns self."""
        codes, names = encode_routes(routes, causes)
        t, e, en, w = validate(durations, codes, entry, weights)
        if not names:
            raise AnalysisError("no child left by any route", hint="every row is censored; check the routes column")
        k = len(names)
        rt = tabulate(t, e, en, w, k)
        n, d_k = rt.at_risk, rt.events
        d = d_k.sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            hazard = np.where(n > 0, d_k / n, 0.0)  # cause-specific hazard increments
            surv = np.cumprod(np.where(n > 0, 1.0 - d / n, 1.0))
        s_prev = np.r_[1.0, surv[:-1]]
        cif = np.cumsum(s_prev * hazard, axis=1)
        se = self._delta_se(n, d, d_k, s_prev, cif) if w is None else np.full_like(cif, np.nan)
        self.causes_ = names
        index = pd.Index(rt.time, name="time")
        self.cumulative_incidence_ = pd.DataFrame(cif.T, index=index, columns=names)
        self.standard_error_ = pd.DataFrame(se.T, index=index, columns=names)
        self.survival_ = pd.Series(surv, index=index, name="in_care")
        z = stats.norm.ppf(1 - self.alpha / 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            # log(-log) transform of F (Choudhury 2002): F ** exp(+-z se / (F log F))
            s = se / np.abs(cif * np.log(cif))
            lower = np.where(cif > 0, cif ** np.exp(z * s), 0.0)
            upper = np.where(cif > 0, cif ** np.exp(-z * s), 0.0)
        lower = np.where(cif >= 1, 1.0, np.nan_to_num(lower, nan=0.0))
        upper = np.where(cif >= 1, 1.0, np.nan_to_num(upper, nan=1.0))
        self.confidence_interval_ = pd.concat(
            {"lower": pd.DataFrame(lower.T, index=index, columns=names),
             "upper": pd.DataFrame(upper.T, index=index, columns=names)},
            axis=1,
        )
        table = pd.DataFrame({"at_risk": n, "removed": rt.removed}, index=index)
        for j, name in enumerate(names):
            table[name] = d_k[j]
        table["censored"] = rt.removed - d
        self.event_table_ = table
        self._time, self._cif = rt.time, cif
        self.n_ = rt.total
        self.method_ = describe_fit("Aalen-Johansen estimate", f"the cumulative incidence of {len(names)} competing "
                                   f"routes ({', '.join(names)})", t, e, en)
        return self

    @staticmethod
    def _delta_se(n: np.ndarray, d: np.ndarray, d_k: np.ndarray, s_prev: np.ndarray, cif: np.ndarray) -> np.ndarray:
        """Delta-method variance (Marubini and Valsecchi 1995, section 10.2), summed over event times u <= t:
        sum (F(t)-F(u))^2 d/(n(n-d)) + sum S(u-)^2 d_k (n-d_k)/n^3 - 2 sum (F(t)-F(u)) S(u-) d_k/n^2."""
        safe_n = np.where(n > 0, n, 1.0)
        ra_all = np.where(n > d, d / (safe_n * np.where(n > d, n - d, 1.0)), 0.0)
        out = np.empty_like(cif)
        for j in range(cif.shape[0]):
            f, dj = cif[j], d_k[j]
            v = f**2 * np.cumsum(ra_all) - 2 * f * np.cumsum(f * ra_all) + np.cumsum(f**2 * ra_all)
            v += np.cumsum(s_prev**2 * dj * (n - dj) / safe_n**3)
            r = s_prev * dj / safe_n**2
            v += -2 * f * np.cumsum(r) + 2 * np.cumsum(f * r)
            out[j] = np.sqrt(np.maximum(v, 0.0))
        return out

    def _check(self) -> None:
        if not hasattr(self, "_cif"):
            raise AnalysisError("this CumulativeIncidence has not been fitted", hint="call .fit(durations, routes)")

    def at(self, times: Any) -> pd.DataFrame | pd.Series:
        """Cumulative incidence of each route at ``times`` (step function; 0 before the first event)."""
        self._check()
        tt = np.atleast_1d(np.asarray(times, dtype=float))
        idx = np.searchsorted(self._time, tt, side="right") - 1
        vals = np.where(idx[None, :] >= 0, self._cif[:, np.maximum(idx, 0)], 0.0).T
        out = pd.DataFrame(vals, index=pd.Index(tt, name="time"), columns=self.causes_)
        return out.iloc[0] if np.ndim(times) == 0 else out

    @property
    def summary(self) -> pd.DataFrame:
        """Per route: leavers observed and the cumulative incidence at the last time."""
        self._check()
        last = self._cif[:, -1]
        return pd.DataFrame(
            {
                "route": self.causes_,
                "leavers": [self.event_table_[c].sum() for c in self.causes_],
                "cumulative_incidence": last,
                "standard_error": self.standard_error_.iloc[-1].to_numpy(),
            }
        )

    def curves(self) -> pd.DataFrame:
        """Long table: time, route, cumulative incidence, lower, upper."""
        self._check()
        ci = self.cumulative_incidence_.stack().rename("cumulative_incidence")
        lo = self.confidence_interval_["lower"].stack().rename("lower")
        hi = self.confidence_interval_["upper"].stack().rename("upper")
        out = pd.concat([ci, lo, hi], axis=1).reset_index()
        return out.rename(columns={"level_1": "route"})

    def plot(self, stacked: bool = False, **layout: Any) -> Any:
        """Cumulative incidence curves (or stacked areas with ``stacked=True``)."""
        from cscflow.analytics.plotting import step_figure

        self._check()
        x = np.r_[0.0, self._time]
        series = []
        base = np.zeros(len(x))
        for j, name in enumerate(self.causes_):
            y = np.r_[0.0, self._cif[j]]
            if stacked:
                base = base + y
                series.append((name, x, base.copy(), None, None))
            else:
                lo = np.r_[0.0, self.confidence_interval_["lower"][name].to_numpy()]
                hi = np.r_[0.0, self.confidence_interval_["upper"][name].to_numpy()]
                series.append((name, x, y, lo, hi))
        layout.setdefault("yaxis_title", "cumulative incidence")
        return step_figure(series, **layout)
