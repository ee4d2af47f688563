"""Funnel plots for fair comparison of LAs (or teams): proportions, rates per 10,000, ratios.

Control limits around a target at 95% and 99.8% (Spiegelhalter 2005, "Funnel plots for
comparing institutional performance", Stat Med 24:1185-1202). A unit is compared with the
distribution of its own count under the target: binomial (proportions, ``n`` trials, ``p0``) or
Poisson (rates: expected count ``E = r0 N``; ratios: ``E`` given). Tail probability ``q = a/2``.

* ``limits="discrete"`` (default): flagged high when ``P(X >= x) < q``, low when
  ``P(X <= x) < q``, so the false-alarm rate without overdispersion is at most ``a`` at every
  ``n``. The drawn limits are the integer quantiles joined by Spiegelhalter's interpolation,
  taken on the tail being tested, so a point lies outside a drawn limit exactly when it is flagged:
  lower ``r - (F(r) - q) / f(r)`` with ``r`` the smallest count with ``F(r) >= q``; upper
  ``k + (S(k-1) - q) / f(k)`` with ``k`` the largest count with ``S(k-1) = P(X >= k) > q``
  (``F`` the distribution function, ``S = 1 - F``, ``f`` the probability of one count);
  divided by ``n`` (or ``E``, times the target for rates).
* ``limits="continuous"``: the beta / chi-square limits at ``x = n p0`` (Clopper-Pearson) or
  ``E`` (Garwood), as FunnelPlotR draws its unadjusted standardised-ratio limits;
* ``limits="normal"``: normal limits on the variance-stabilised scale (FunnelPlotR's proportions).

Overdispersion is always estimated: z-scores on the variance-stabilised scale (arcsine-square-root
for proportions, square root for ratios and rates), winsorised at 10%/90%, ``phi = mean z^2``;
``tau^2 = (I phi - (I - 1)) / (sum w - sum w^2 / sum w)``, ``w = 1/s^2`` (DerSimonian-Laird
form, as FunnelPlotR and NHS England's SHMI). ``overdispersion="auto"`` (default) widens the
limits by additive random effects when ``I phi`` exceeds the 95th centile of chi-square on
``I - 1`` degrees of freedom; ``"additive"`` or ``"multiplicative"`` force an adjustment
(when ``phi > 1``), ``"none"`` turns it off. Adjusted limits are never narrower than the
unadjusted ones. See docs/methods.md.

>>> fp = FunnelPlot("ratio", limits="continuous", overdispersion="none").fit([10, 30], [15, 20])
>>> fp.limits_at([15]).round(7).iloc[0].tolist()[:1]
[0.5596924]
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from cscflow.errors import AnalysisError

KINDS = ("proportion", "rate", "ratio")
LEVELS = {"95": 0.95, "998": 0.998}
OVERDISPERSION = ("auto", "none", "additive", "multiplicative")
LIMITS = ("discrete", "continuous", "normal")
#: significance of the chi-square test for overdispersion that turns the "auto" adjustment on
OD_TEST_LEVEL = 0.05
#: relative tolerance: a tail probability within it of q is a tie (not flagged)
TIE = 1e-7


def _dist(kind: str, target: float, denom: np.ndarray) -> Any:
    """The null distribution of each unit's count (scipy frozen, vectorised)."""
    if kind == "proportion":
        return stats.binom(np.rint(denom), target)
    return stats.poisson(denom * target)


def _discrete_counts(kind: str, target: float, denom: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Interpolated lower and upper limits on the count scale (see the module docstring); a tail
    probability within ``TIE`` (relative) of ``q`` counts as not beyond it, here and in the flags."""
    q = (1 - level) / 2
    dist = _dist(kind, target, denom)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = dist.ppf(q)  # smallest r with F(r) >= q; re-checked with the same cdf as the flags
        r = np.where(dist.cdf(r) < q, r + 1, r)
        r = np.where((r > 0) & (dist.cdf(r - 1) >= q), r - 1, r)
        f_r, f_r1 = dist.cdf(r), dist.cdf(r - 1)
        alpha = np.where(f_r1 >= q * (1 - TIE), 1.0, (f_r - q) / (f_r - f_r1))
        lo = r - np.nan_to_num(alpha)
        k = dist.isf(q)  # largest k with P(X >= k) > q, i.e. S(k) <= q < S(k - 1)
        k = np.where(dist.sf(k) > q, k + 1, k)
        k = np.where((k > 0) & (dist.sf(k - 1) <= q), k - 1, k)
        s_k, s_k1 = dist.sf(k), dist.sf(k - 1)
        beta = np.where(s_k >= q * (1 - TIE), 1.0, (s_k1 - q) / (s_k1 - s_k))
        hi = k + np.nan_to_num(beta)
    return lo, hi


def _tail_probabilities(kind: str, target: float, num: np.ndarray, denom: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``P(X <= x)`` and ``P(X >= x)`` under the target, for each unit's count ``x``."""
    dist = _dist(kind, target, denom)
    x = np.asarray(num, dtype=float)
    return dist.cdf(np.floor(x)), dist.sf(np.ceil(x) - 1)


def _continuous_limits(kind: str, target: float, denom: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    a = 1 - level
    d = np.asarray(denom, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "proportion":
            x = d * target
            lo = np.where(x > 0, stats.beta.ppf(a / 2, np.maximum(x, 1e-300), d - x + 1), 0.0)
            hi = np.where(d - x > 0, stats.beta.ppf(1 - a / 2, x + 1, np.maximum(d - x, 1e-300)), 1.0)
            return lo, hi
        e = d * target  # expected count
        lo = np.where(e > 0, stats.chi2.ppf(a / 2, 2 * e) / (2 * e), 0.0)
        hi = np.where(e > 0, stats.chi2.ppf(1 - a / 2, 2 * e + 2) / (2 * e), np.inf)
        return lo * target, hi * target


def _transform(
    kind: str, y: np.ndarray, denom: np.ndarray, target: float
) -> tuple[np.ndarray, np.ndarray, float, Callable[[np.ndarray], np.ndarray]]:
    """(transformed value, its standard error, transformed target, back-transform)."""
    if kind == "proportion":
        return (
            np.arcsin(np.sqrt(np.clip(y, 0, 1))),
            1 / (2 * np.sqrt(denom)),
            np.arcsin(np.sqrt(target)),
            lambda v: np.sin(np.clip(v, 0, np.pi / 2)) ** 2,
        )
    return (
        np.sqrt(np.maximum(y / target, 0)),
        1 / (2 * np.sqrt(denom * target)),
        1.0,
        lambda v: target * np.maximum(v, 0) ** 2,
    )


def _fmt(x: float) -> str:
    return f"{x:,.3g}" if abs(x) < 1000 else f"{x:,.0f}"


class FunnelPlot:
    """A funnel plot: each unit's value against its denominator, with control limits.

    ``kind``: "proportion" (numerator / denominator), "rate" (per ``per`` children, e.g.
    CLA per 10,000) or "ratio" (observed / expected; the denominator is the expected count).
    ``target``: the comparator (default: pooled over the units; 1 for ratios), named
    ``target_name`` in :attr:`method_` (e.g. "England"). ``overdispersion``: "auto" (default;
    ``None`` means the same), "none", "additive" or "multiplicative". ``limits``: "discrete"
    (default), "continuous" or "normal" (see the module docstring). ``unit_name`` names the units
    in :attr:`method_` (e.g. "LAs", "teams").

    Fitted attributes: ``target_``, ``phi_``, ``tau2_``, ``adjusted_`` (the adjustment used:
    "none", "additive" or "multiplicative"), ``method_`` (one sentence), ``table_`` / ``summary``
    and ``outliers_`` (outside the 99.8% limits).

    >>> fp = FunnelPlot("proportion").fit([20, 5, 60], [100, 50, 200], labels=["A", "B", "C"])
    >>> round(fp.target_, 4), fp.outliers_["label"].tolist(), round(fp.phi_, 2), fp.adjusted_
    (0.2429, [], 2.79, 'additive')
    """

    #: The year ending 31 March of the counts, set by callers that fit one year (``analytics.ready``).
    year_: int | None = None
    #: The number of units in the fit (0 before one: :meth:`limits_at` works from a given target).
    n_units_: int = 0

    def __init__(
        self,
        kind: str = "proportion",
        target: float | None = None,
        per: float = 10_000,
        overdispersion: str | None = "auto",
        winsorise: float = 0.1,
        limits: str = "discrete",
        target_name: str | None = None,
        unit_name: str = "units",
    ) -> None:
        if kind not in KINDS:
            raise AnalysisError(f"unknown funnel kind {kind!r}", hint=f"use one of {', '.join(KINDS)}")
        overdispersion = "auto" if overdispersion is None else overdispersion
        if overdispersion not in OVERDISPERSION:
            raise AnalysisError(f"unknown overdispersion {overdispersion!r}",
                                hint=f"use one of {', '.join(OVERDISPERSION)}")
        if limits not in LIMITS:
            raise AnalysisError(f"unknown funnel limits {limits!r}", hint=f"use one of {', '.join(LIMITS)}")
        self.kind, self.target, self.per = kind, target, per
        self.overdispersion, self.winsorise, self.limits = overdispersion, winsorise, limits
        self.target_name, self.unit_name = target_name, unit_name

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
        if self.limits == "discrete":
            whole = num if self.kind != "proportion" else np.r_[num, den]
            if not np.array_equal(whole, np.rint(whole)):
                i = int(np.flatnonzero(whole != np.rint(whole))[0]) % len(num)
                raise AnalysisError(
                    f"unit {labels[i] if labels is not None else i!r} has numerator {num[i]!r} and "
                    f"denominator {den[i]!r}: discrete limits need whole counts",
                    hint='pass counts, or use limits="continuous" or "normal"')
        labels = [str(x) for x in (labels if labels is not None else range(len(num)))]
        scale = self.per if self.kind == "rate" else 1
        if self.target is not None:
            target = float(self.target) / scale
        elif self.kind == "ratio":
            target = 1.0
        else:
            target = num.sum() / den.sum()
        if not (0 <= target <= 1 if self.kind == "proportion" else target > 0):
            raise AnalysisError(f"funnel target {target * scale!r} is out of range",
                                hint="a proportion target lies between 0 and 1, a rate or ratio above 0")
        self.target_ = float(target * scale)
        self._target = target
        value = num / den
        self._num, self._den = num, den
        ty, s, tt, _ = _transform(self.kind, value, den, target)
        z = (ty - tt) / s
        self.z_ = z
        self.phi_, self.tau2_ = self._dispersion(z, s)
        self.n_units_ = len(num)
        self.od_p_value_ = float(stats.chi2.sf(len(z) * self.phi_, len(z) - 1)) if len(z) > 1 else 1.0
        self.adjusted_ = self._adjustment()
        self.labels_ = labels
        table = pd.DataFrame({"label": labels, "numerator": num, "denominator": den,
                              "value": value * scale, "z": z})
        lim = self.limits_at(den)
        for col in lim.columns:
            table[col] = lim[col].to_numpy()
        high, low = self._flags(num, den, ty, s, tt, table)
        table["flag"] = np.select([high["998"], low["998"], high["95"], low["95"]],
                                  ["high (99.8%)", "low (99.8%)", "high (95%)", "low (95%)"], default="")
        self.highlight = None if highlight is None else str(highlight)
        self.neighbours = [str(x) for x in (neighbours or [])]
        table["highlight"] = table["label"] == self.highlight
        table["neighbour"] = table["label"].isin(self.neighbours)
        self.table_ = table
        self.outliers_ = table[table["flag"].str.contains("99.8")].reset_index(drop=True)
        for t in (self.table_, self.outliers_):
            t.attrs.update(phi=self.phi_, tau2=self.tau2_, adjusted=self.adjusted_, method=self.method_)
        return self

    def _flags(self, num: np.ndarray, den: np.ndarray, ty: np.ndarray, s: np.ndarray, tt: float,
               table: pd.DataFrame) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """High and low flags by level: beyond the unadjusted limits (for discrete limits, by the
        unit's tail probability) and, when adjusted, beyond the adjusted limits too."""
        high: dict[str, np.ndarray] = {}
        low: dict[str, np.ndarray] = {}
        if self.limits == "discrete":
            p_low, p_high = _tail_probabilities(self.kind, self._target, num, den)
        v = table["value"].to_numpy()
        for tag, level in LEVELS.items():
            q = (1 - level) / 2
            zq = stats.norm.ppf(1 - q)
            if self.limits == "discrete":
                hi, lo = p_high < q * (1 - TIE), p_low < q * (1 - TIE)
            elif self.limits == "continuous":
                c_lo, c_hi = _continuous_limits(self.kind, self._target, den, level)
                scale = self.per if self.kind == "rate" else 1
                hi, lo = v > c_hi * scale, v < c_lo * scale
            else:
                hi, lo = (ty - tt) / s > zq, (ty - tt) / s < -zq
            if self.adjusted_ != "none":
                za = (ty - tt) / self._adjusted_sd(s)
                hi, lo = hi & (za > zq), lo & (za < -zq)
            high[tag], low[tag] = hi, lo
        return high, low

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

    def _adjustment(self) -> str:
        if self.overdispersion == "none" or self.phi_ <= 1:
            return "none"
        if self.overdispersion == "multiplicative":
            return "multiplicative"
        if self.tau2_ <= 0:
            return "none"
        if self.overdispersion == "auto" and self.od_p_value_ >= OD_TEST_LEVEL:
            return "none"
        return "additive"

    def _adjusted_sd(self, s: np.ndarray) -> np.ndarray:
        if self.adjusted_ == "multiplicative":
            sd: np.ndarray = s * np.sqrt(self.phi_)
            return sd
        sd = np.sqrt(s**2 + self.tau2_)
        return sd

    # -- results --------------------------------------------------------------------------
    def limits_at(self, denominators: Any) -> pd.DataFrame:
        """Control limits at ``denominators``: columns lower95, upper95, lower998, upper998
        (on the plotted scale: proportion, rate per ``per``, or ratio). Discrete proportion
        limits are taken at the nearest whole denominator."""
        if not hasattr(self, "_target"):
            if self.kind == "ratio":
                self._target = 1.0
            elif self.target is None:
                raise AnalysisError("fit the funnel first (the target is pooled)", hint="call .fit(...)")
            else:
                self._target = float(self.target) / (self.per if self.kind == "rate" else 1)
            self.phi_, self.tau2_, self.adjusted_ = 1.0, 0.0, "none"
        d = np.asarray(np.atleast_1d(denominators), dtype=float)
        out = {}
        scale = self.per if self.kind == "rate" else 1
        for tag, level in LEVELS.items():
            if self.limits == "discrete":
                lo, hi = _discrete_counts(self.kind, self._target, d, level)
                div = np.rint(d) if self.kind == "proportion" else d
                lo, hi = lo / div, hi / div
                if self.kind == "proportion":
                    lo, hi = np.clip(lo, 0, 1), np.clip(hi, 0, 1)
                else:
                    lo = np.maximum(lo, 0)
            elif self.limits == "continuous":
                lo, hi = _continuous_limits(self.kind, self._target, d, level)
            else:
                lo, hi = self._normal_limits(d, level, 0.0)
            if self.adjusted_ != "none":
                alo, ahi = self._normal_limits(d, level, None)
                lo, hi = np.minimum(lo, alo), np.maximum(hi, ahi)
            out[f"lower{tag}"], out[f"upper{tag}"] = lo * scale, hi * scale
        return pd.DataFrame(out, index=pd.Index(d, name="denominator"))[
            ["lower95", "upper95", "lower998", "upper998"]
        ]

    def _normal_limits(self, d: np.ndarray, level: float, tau2: float | None) -> tuple[np.ndarray, np.ndarray]:
        """Normal limits on the transformed scale, back-transformed: unadjusted (``tau2=0``) or
        with the fitted adjustment (``tau2=None``)."""
        _, s, tt, back = _transform(self.kind, np.zeros_like(d), d, self._target)
        zq = stats.norm.ppf(1 - (1 - level) / 2)
        sd = s if tau2 == 0.0 else self._adjusted_sd(s)
        lo, hi = back(tt - zq * sd), back(tt + zq * sd)
        lo = np.where(tt - zq * sd < 0, 0.0, lo)
        if self.kind == "proportion":
            hi = np.where(tt + zq * sd > np.pi / 2, 1.0, hi)
        return lo, hi

    @property
    def method_(self) -> str:
        """One plain-English sentence for a board paper: the limits, the target, phi, tau^2 and
        the adjustment used."""
        if not hasattr(self, "phi_"):
            raise AnalysisError("the funnel is not fitted yet", hint="call .fit(...) first")
        name = self.target_name or ("target" if self.target is not None or self.kind == "ratio" else "pooled")
        what = {"proportion": f"the {name} share {_fmt(100 * self.target_)}%",
                "rate": f"the {name} rate {_fmt(self.target_)} per {self.per:,.0f}",
                "ratio": f"the {name} ratio {_fmt(self.target_)}"}[self.kind]
        dist = "binomial" if self.kind == "proportion" else "Poisson"
        base = {"discrete": f"exact {dist} limits",
                "continuous": "Clopper-Pearson (beta) limits" if self.kind == "proportion"
                else "Garwood (chi-square) limits",
                "normal": "normal limits on the " + ("arcsine" if self.kind == "proportion" else "square-root")
                + " scale"}[self.limits]
        scale_name = "arcsine" if self.kind == "proportion" else "square-root"
        i = self.n_units_
        disp = f"overdispersion phi = {self.phi_:.2f}, tau^2 = {self.tau2_:.3g} on the {scale_name} scale"
        if self.adjusted_ == "additive":
            pv = "p < 0.001" if self.od_p_value_ < 0.001 else f"p = {self.od_p_value_:.2g}"
            why = (f"more than chance alone gives for {i} {self.unit_name} (chi-square test {pv})"
                   if self.overdispersion == "auto" else "adjustment requested")
            adj = f"{disp}, {why}, so limits widened by additive random effects (Spiegelhalter 2005)"
        elif self.adjusted_ == "multiplicative":
            adj = f"{disp}, so limits widened by sqrt(phi) = {np.sqrt(self.phi_):.2f} (multiplicative; requested)"
        elif i < 2:
            adj = f"overdispersion not estimable from {i} {self.unit_name}"
        elif self.overdispersion == "none":
            adj = f"{disp}; no overdispersion adjustment (turned off)"
        else:
            adj = f"{disp}, within what chance alone gives for {i} {self.unit_name}, so no adjustment"
        flagged = ""
        if hasattr(self, "table_"):
            f = self.table_["flag"]
            flagged = (f"; {int(f.str.contains('99.8').sum())} of {len(f)} {self.unit_name} outside 99.8% "
                       f"and {int((f != '').sum())} outside 95%")
        return f"Funnel plot, 95% and 99.8% {base} around {what}; {adj}{flagged}."

    @property
    def summary(self) -> pd.DataFrame:
        """Each unit with its value, z-score, limits at its denominator and flag; ``attrs`` carry
        phi, tau2, the adjustment used and the method sentence."""
        return self.table_

    def plot(self, title: str | None = None, value_title: str | None = None) -> Any:
        """Plotly funnel: points, the target line and the 95% and 99.8% limits, the method as a
        subtitle; the highlighted unit in red, statistical neighbours as diamonds."""
        import plotly.graph_objects as go

        t = self.table_
        lo, hi = max(t["denominator"].min() * 0.8, 1e-9), t["denominator"].max() * 1.1
        grid = np.unique(np.r_[np.linspace(lo, hi, 300), np.geomspace(lo, hi, 300)])
        if self.kind == "proportion" and self.limits == "discrete":
            grid = np.unique(np.maximum(np.rint(grid), 1))
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
        method = "<br>".join(textwrap.wrap(self.method_, 120))
        fig.update_layout(
            title={"text": title or "Funnel plot", "subtitle": {"text": method}}, template="plotly_white",
            margin={"t": 130},
            xaxis_title="expected count" if self.kind == "ratio" else "denominator",
            yaxis_title=value_title or {"proportion": "proportion", "rate": f"rate per {self.per:,.0f}",
                                        "ratio": "observed / expected"}[self.kind],
        )
        return fig
