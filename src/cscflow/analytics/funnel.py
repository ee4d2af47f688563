"""Funnel plots for fair comparison of LAs (or teams): proportions, rates per 10,000, ratios.

Control limits around a target at 95% and 99.8% (Spiegelhalter 2005, "Funnel plots for
comparing institutional performance", Stat Med 24:1185-1202):

* proportions (binomial), target p0, denominator n: the exact (beta) limits
  Beta(a/2; n p0, n(1-p0)+1) and Beta(1-a/2; n p0+1, n(1-p0)) - Clopper-Pearson at x = n p0;
* ratios (indirectly standardised, observed / expected), denominator E: the exact Poisson
  limits chi2(a/2; 2E) / 2E and chi2(1-a/2; 2E+2) / 2E, as FunnelPlotR;
* rates per 10,000 children: counts Poisson with expected count E = r0 N, so the rate limits
  are r0 times the ratio limits at E.

Overdispersion (optional): z-scores on the variance-stabilised scale (arcsine-square-root for
proportions, square root for ratios and rates), winsorised at 10%/90%; phi = mean z^2.
``"multiplicative"`` widens the limits by sqrt(phi); ``"additive"`` adds a between-unit
variance tau^2 = (I phi - (I - 1)) / (sum w - sum w^2 / sum w), w = 1/s^2 (DerSimonian-Laird
form, as FunnelPlotR). Applied only when phi > 1. See docs/methods.md.

>>> fp = FunnelPlot("ratio").fit([10, 30], [15, 20])
>>> fp.limits_at([15]).round(7).iloc[0].tolist()[:1]
[0.5596924]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from cscflow.errors import AnalysisError

KINDS = ("proportion", "rate", "ratio")
LEVELS = {"95": 0.95, "998": 0.998}


def _exact_limits(kind: str, target: float, denom: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    a = 1 - level
    d = np.asarray(denom, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "proportion":
            x = d * target
            lo = np.where(x > 0, stats.beta.ppf(a / 2, np.maximum(x, 1e-300), d - x + 1), 0.0)
            hi = np.where(d - x > 0, stats.beta.ppf(1 - a / 2, x + 1, np.maximum(d - x, 1e-300)), 1.0)
            return lo, hi
        e = d * target if kind == "rate" else d  # expected count
        lo = np.where(e > 0, stats.chi2.ppf(a / 2, 2 * e) / (2 * e), 0.0)
        hi = np.where(e > 0, stats.chi2.ppf(1 - a / 2, 2 * e + 2) / (2 * e), np.inf)
        scale = target if kind == "rate" else 1.0
        return lo * scale, hi * scale


def _transform(kind: str, y: np.ndarray, denom: np.ndarray, target: float):
    """(transformed value, its standard error, transformed target, back-transform)."""
    if kind == "proportion":
        return (
            np.arcsin(np.sqrt(np.clip(y, 0, 1))),
            1 / (2 * np.sqrt(denom)),
            np.arcsin(np.sqrt(target)),
            lambda v: np.sin(np.clip(v, 0, np.pi / 2)) ** 2,
        )
    scale = target if kind == "rate" else 1.0
    e = denom * target if kind == "rate" else denom
    return (
        np.sqrt(np.maximum(y / scale, 0)),
        1 / (2 * np.sqrt(e)),
        1.0,
        lambda v: scale * np.maximum(v, 0) ** 2,
    )


class FunnelPlot:
    """A funnel plot: each unit's value against its denominator, with control limits.

    ``kind``: "proportion" (numerator / denominator), "rate" (per ``per`` children, e.g.
    CLA per 10,000) or "ratio" (observed / expected; the denominator is the expected count).
    ``target``: the comparator (default: pooled over the units; 1 for ratios).
    ``overdispersion``: None, "multiplicative" or "additive".

    >>> fp = FunnelPlot("proportion").fit([20, 5, 60], [100, 50, 200], labels=["A", "B", "C"])
    >>> round(fp.target_, 4), fp.outliers_["label"].tolist()
    (0.2429, [])
    """

    def __init__(
        self,
        kind: str = "proportion",
        target: float | None = None,
        per: float = 10_000,
        overdispersion: str | None = None,
        winsorise: float = 0.1,
    ) -> None:
        if kind not in KINDS:
            raise AnalysisError(f"unknown funnel kind {kind!r}", hint=f"use one of {', '.join(KINDS)}")
        if overdispersion not in (None, "multiplicative", "additive"):
            raise AnalysisError(
                f"unknown overdispersion {overdispersion!r}", hint="use None, 'multiplicative' or 'additive'"
            )
        self.kind, self.target, self.per = kind, target, per
        self.overdispersion, self.winsorise = overdispersion, winsorise

    # -- fitting ------------------------------------------------------------------------
    def fit(
        self,
        numerators: Any,
        denominators: Any,
        labels: Any = None,
        highlight: str | None = None,
        neighbours: Any = None,
    ) -> FunnelPlot:
        """Fit to counts (``numerators``) and ``denominators`` (trials, children, or expected counts).

        ``labels`` name the units; ``highlight`` is the user's unit, ``neighbours`` its
        statistical neighbours (marked on the plot)."""
        num = np.asarray(numerators, dtype=float)
        den = np.asarray(denominators, dtype=float)
        if num.shape != den.shape or num.ndim != 1:
            raise AnalysisError(
                f"{num.size} numerators for {den.size} denominators", hint="pass one of each per unit"
            )
        bad = ~np.isfinite(num) | ~np.isfinite(den) | (den <= 0) | (num < 0)
        if self.kind == "proportion":
            bad |= num > den
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            lab = labels[i] if labels is not None else i
            raise AnalysisError(
                f"unit {lab!r} has numerator {num[i]!r} and denominator {den[i]!r}",
                hint="drop suppressed or empty units (denominators must be > 0"
                + (", numerators <= denominators)" if self.kind == "proportion" else ")"),
            )
        labels = [str(x) for x in (labels if labels is not None else range(len(num)))]
        if self.target is not None:
            target = float(self.target) / (self.per if self.kind == "rate" else 1)
        elif self.kind == "ratio":
            target = 1.0
        else:
            target = num.sum() / den.sum()
        self.target_ = float(target * (self.per if self.kind == "rate" else 1))
        self._target = target
        value = num / den
        self._num, self._den, self._value = num, den, value
        ty, s, tt, _ = _transform(self.kind, value, den, target)
        z = (ty - tt) / s
        self.z_ = z
        self.phi_, self.tau2_ = self._dispersion(z, s)
        self.labels_ = labels
        table = pd.DataFrame(
            {
                "label": labels,
                "numerator": num,
                "denominator": den,
                "value": value * (self.per if self.kind == "rate" else 1),
                "z": z,
            }
        )
        lim = self.limits_at(den)
        for col in lim.columns:
            table[col] = lim[col].to_numpy()
        v = table["value"]
        table["flag"] = np.select(
            [v > table["upper998"], v < table["lower998"], v > table["upper95"], v < table["lower95"]],
            ["high (99.8%)", "low (99.8%)", "high (95%)", "low (95%)"],
            default="",
        )
        self.highlight = None if highlight is None else str(highlight)
        self.neighbours = [str(x) for x in (neighbours or [])]
        table["highlight"] = table["label"] == self.highlight
        table["neighbour"] = table["label"].isin(self.neighbours)
        self.table_ = table
        self.outliers_ = table[table["flag"].str.contains("99.8")].reset_index(drop=True)
        return self

    def _dispersion(self, z: np.ndarray, s: np.ndarray) -> tuple[float, float]:
        if len(z) < 2:
            return 1.0, 0.0
        lo, hi = np.quantile(z, [self.winsorise, 1 - self.winsorise])
        zw = np.clip(z, lo, hi)
        n = len(z)
        phi = float(np.mean(zw**2))
        w = 1 / s**2
        tau2 = max(0.0, (n * phi - (n - 1)) / (w.sum() - (w**2).sum() / w.sum()))
        return phi, float(tau2)

    # -- results --------------------------------------------------------------------------
    def limits_at(self, denominators: Any) -> pd.DataFrame:
        """Control limits at ``denominators``: columns lower95, upper95, lower998, upper998
        (on the plotted scale: proportion, rate per ``per``, or ratio)."""
        if not hasattr(self, "_target"):
            if self.target is None and self.kind != "ratio":
                raise AnalysisError("fit the funnel first (the target is pooled)", hint="call .fit(...)")
            self._target = 1.0 if self.kind == "ratio" else float(self.target) / (
                self.per if self.kind == "rate" else 1
            )
            self.phi_, self.tau2_ = 1.0, 0.0
        d = np.asarray(np.atleast_1d(denominators), dtype=float)
        out = {}
        scale = self.per if self.kind == "rate" else 1
        adjust = self.overdispersion is not None and self.phi_ > 1
        for tag, level in LEVELS.items():
            if adjust:
                _, s, tt, back = _transform(self.kind, np.zeros_like(d), d, self._target)
                zq = stats.norm.ppf(1 - (1 - level) / 2)
                sd = s * np.sqrt(self.phi_) if self.overdispersion == "multiplicative" else np.sqrt(s**2 + self.tau2_)
                lo, hi = back(tt - zq * sd), back(tt + zq * sd)
                if self.kind == "proportion":
                    lo = np.where(tt - zq * sd < 0, 0.0, lo)
                    hi = np.where(tt + zq * sd > np.pi / 2, 1.0, hi)
                else:
                    lo = np.where(tt - zq * sd < 0, 0.0, lo)
            else:
                lo, hi = _exact_limits(self.kind, self._target, d, level)
            out[f"lower{tag}"], out[f"upper{tag}"] = lo * scale, hi * scale
        return pd.DataFrame(out, index=pd.Index(d, name="denominator"))[
            ["lower95", "upper95", "lower998", "upper998"]
        ]

    @property
    def method_(self) -> str:
        """One plain-English sentence: the limits, the target, phi, tau^2 and the adjustment used
        (provisional wording)."""
        if not hasattr(self, "table_"):
            raise AnalysisError("the funnel is not fitted yet", hint="call .fit(...) first")
        what = {"proportion": "share", "rate": f"rate per {self.per:,.0f}", "ratio": "ratio"}[self.kind]
        adj = (f"limits widened by {self.overdispersion} overdispersion adjustment"
               if self.overdispersion is not None and self.phi_ > 1 else "no overdispersion adjustment")
        return (f"Funnel plot, 95% and 99.8% limits around the target {what} {self.target_:.3g}; "
                f"overdispersion phi = {self.phi_:.1f}, tau^2 = {self.tau2_:.3g}; {adj} (Spiegelhalter 2005).")

    @property
    def summary(self) -> pd.DataFrame:
        """Each unit with its value, z-score, limits at its denominator and flag."""
        return self.table_

    def plot(self, title: str | None = None, value_title: str | None = None) -> Any:
        """Plotly funnel: points, the target line and the 95% and 99.8% limits; the highlighted unit
        in red, statistical neighbours as diamonds."""
        import plotly.graph_objects as go

        t = self.table_
        lo, hi = max(t["denominator"].min() * 0.8, 1e-9), t["denominator"].max() * 1.1
        grid = np.unique(np.r_[np.linspace(lo, hi, 300), np.geomspace(lo, hi, 300)])
        lim = self.limits_at(grid)
        fig = go.Figure()
        for col, dash, name in [("998", "dash", "99.8% limits"), ("95", "dot", "95% limits")]:
            for side in ("lower", "upper"):
                fig.add_trace(go.Scatter(x=grid, y=lim[f"{side}{col}"], mode="lines",
                                         line={"color": "#555", "dash": dash, "width": 1},
                                         name=name, showlegend=side == "lower", legendgroup=col))
        fig.add_trace(go.Scatter(x=[lo, hi], y=[self.target_] * 2, mode="lines", name="target",
                                 line={"color": "#222", "width": 1}))
        others = t[~t["highlight"] & ~t["neighbour"]]
        groups = [(others, "units", "#1f77b4", "circle"), (t[t["neighbour"]], "statistical neighbours",
                  "#ff7f0e", "diamond"), (t[t["highlight"]], self.highlight or "", "#d62728", "star")]
        for sub, name, colour, symbol in groups:
            if len(sub):
                fig.add_trace(go.Scatter(
                    x=sub["denominator"], y=sub["value"], mode="markers", name=name, text=sub["label"],
                    marker={"color": colour, "symbol": symbol, "size": 12 if symbol == "star" else 7},
                    hovertemplate="%{text}: %{y:.3g} (denominator %{x:,})<extra></extra>"))
        fig.update_layout(
            title=title, template="plotly_white",
            xaxis_title="expected count" if self.kind == "ratio" else "denominator",
            yaxis_title=value_title or {"proportion": "proportion", "rate": f"rate per {self.per:,.0f}",
                                        "ratio": "observed / expected"}[self.kind],
        )
        return fig
