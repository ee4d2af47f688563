"""The level of the arrivals: a local linear trend (random-walk level, fixed slope) on the log monthly entries.

The Poisson log-linear model (:func:`cscflow.forecast.estimate.poisson_glm`) gives the arrivals' season and
a trend fitted as a straight line through four years. A county's demand does not follow a straight line: its
level moves for a year and stays moved. Forecast from the line, those moves and the error of the line's
slope are left out of the intervals. Here the seasonally adjusted log entries

    z_t = log(y_t + 0.5) - s(month_t)             (s: the Poisson fit's month effects, January = 0)

follow the local linear trend model with a deterministic slope (Harvey 1989, the "lldtrend" of statsmodels'
``UnobservedComponents``)

    z_t = l_t + e_t,            e_t ~ N(0, sigma2_irregular)   (Poisson and month-to-month noise)
    l_t = l_{t-1} + b + x_t,    x_t ~ N(0, sigma2_level)       (a lasting change of level)

with both variances estimated by maximum likelihood (Kalman filter, exact diffuse start) on the months before
the origin. The filtered state at the last month, (l_T, b) ~ N(a_T, P_T), says what the level and slope are
known to be; a simulated path draws them once, then adds its own level changes and the slope damped by phi a
month (Gardner and McKenzie 1985):

    l_{T+h} = l_T + (phi + phi^2 + ... + phi^h) b + x_{T+1} + ... + x_{T+h}.

The default phi is 0 (:data:`TREND_DAMPING`): the level is projected flat from where the filter puts it now, and
the slope, which the filter uses to place that level, is not carried forward. An LA's recent trend in demand does
not persist: across the 158 LAs of DfE's Children in need tables (2013-2025, bundled in
:mod:`cscflow.reference`), next year's referrals are forecast with a mean absolute log error of 0.143 from the
last year's count, 0.162 with half the slope of the three years before added and 0.194 with all of it; CIN
episodes begun, CP plans begun and periods of care begun read the same (docs/methods.md, Forecasts).

With sigma2_level = 0 this is the regression line, its level and slope errors (generalised least squares)
propagated. The irregular's part beyond Poisson, v = max(sigma2_irregular - 1 / mean(y), 0), is the
variance of each month's gamma factor, and exp(v / 2) corrects the log scale's mean:
E[log(y + 0.5)] is about log E[y] - v / 2.

>>> import numpy as np
>>> lvl = fit_level(np.full(36, 100.0), np.zeros(36))
>>> round(float(np.exp(lvl.state[0])))
100
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

#: the arrivals' slope is carried forward damped by this much a month: 0 projects the level flat (module doc)
TREND_DAMPING = 0.0


@dataclass(frozen=True)
class ArrivalLevel:
    """The fitted level model: ``state`` (log level at the last fitted month, slope a month), its covariance
    ``cov`` (2 x 2), the variances ``sigma2_level`` (level change a month) and ``sigma2_irregular`` (a month's
    noise, log scale), ``extra`` (the irregular beyond Poisson: the months' gamma factor variance) and
    ``damping`` (phi a month: how much of the slope is carried forward)."""

    state: np.ndarray
    cov: np.ndarray
    sigma2_level: float
    sigma2_irregular: float
    extra: float
    damping: float = TREND_DAMPING

    def as_dict(self) -> dict[str, float]:
        """The fit as plain numbers (slope and level change as yearly relative figures)."""
        return {"level_change_sd_a_month": float(np.sqrt(self.sigma2_level)),
                "irregular_sd": float(np.sqrt(self.sigma2_irregular)),
                "trend_per_year": float(np.expm1(12.0 * self.state[1])),
                "trend_per_year_se": float(12.0 * np.sqrt(max(self.cov[1, 1], 0.0))),
                "trend_damping_a_month": float(self.damping),
                "trend_carried_into_next_12_months": float(np.expm1(slope_steps(self.damping, np.array([12.0]))[0]
                                                                    * self.state[1]))}


def slope_steps(damping: float, steps: np.ndarray) -> np.ndarray:
    """phi + phi^2 + ... + phi^h for each step h: the months of slope a damped trend adds by then (h at phi 1)."""
    steps = np.asarray(steps, dtype=float)
    phi = float(np.clip(damping, 0.0, 1.0))
    if phi >= 1.0:
        return steps
    out: np.ndarray = phi * (1.0 - phi ** steps) / (1.0 - phi)
    return out


def fit_level(counts: np.ndarray, season: np.ndarray, damping: float = TREND_DAMPING) -> ArrivalLevel:
    """Fit the local linear trend to monthly ``counts`` less the log ``season`` effects of each month (module
    docstring), its slope to be carried forward damped by ``damping`` a month. Falls back to a straight line
    through the log counts (ordinary least squares, its parameter covariance) when the likelihood cannot be
    maximised."""
    y = np.asarray(counts, dtype=float)
    z = np.log(y + 0.5) - np.asarray(season, dtype=float)
    mean = max(float(y.mean()), 1e-9)
    try:
        from statsmodels.tsa.statespace.structural import UnobservedComponents

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = UnobservedComponents(z, "lldtrend", use_exact_diffuse=True).fit(disp=False)
        s2_irr, s2_lvl = (float(v) for v in res.params)
        state = np.asarray(res.filtered_state[:, -1], dtype=float)
        cov = np.asarray(res.filtered_state_cov[:, :, -1], dtype=float)
        if not (np.all(np.isfinite(state)) and np.all(np.isfinite(cov)) and np.isfinite(s2_irr + s2_lvl)):
            raise FloatingPointError("non-finite level fit")
    except (ValueError, np.linalg.LinAlgError, FloatingPointError):
        state, cov, s2_irr = _line(z)
        s2_lvl = 0.0
    s2_irr, s2_lvl = max(s2_irr, 0.0), max(s2_lvl, 0.0)
    return ArrivalLevel(state=state, cov=(cov + cov.T) / 2.0, sigma2_level=s2_lvl, sigma2_irregular=s2_irr,
                        extra=max(s2_irr - 1.0 / mean, 0.0), damping=float(np.clip(damping, 0.0, 1.0)))


def _line(z: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Level at the last month and slope of a least-squares line through ``z``, their covariance, residual variance."""
    t = np.arange(len(z), dtype=float) - (len(z) - 1)
    x = np.column_stack([np.ones_like(t), t])
    beta, *_ = np.linalg.lstsq(x, z, rcond=None)
    resid = z - x @ beta
    s2 = float(resid @ resid / max(len(z) - 2, 1))
    return beta, s2 * np.linalg.pinv(x.T @ x), s2


def level_paths(level: ArrivalLevel, steps: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` simulated paths (n x len(steps)) of the log level ``steps`` months after the last fitted month
    (1, 2, ...; increasing): the state drawn from N(a_T, P_T), then the slope damped by ``level.damping`` and a
    random walk of level changes, plus v / 2 (module docstring), so that exp(path) times a gamma factor of mean 1
    has the mean count."""
    steps = np.asarray(steps, dtype=float)
    vals, vecs = np.linalg.eigh(level.cov)
    root = vecs * np.sqrt(np.clip(vals, 0.0, None))
    st = level.state + rng.standard_normal((n, 2)) @ root.T
    gaps = np.diff(np.r_[0.0, steps])
    walk = np.cumsum(rng.standard_normal((n, len(steps))) * np.sqrt(level.sigma2_level * gaps), axis=1)
    paths: np.ndarray = st[:, :1] + st[:, 1:] * slope_steps(level.damping, steps) + walk + level.extra / 2.0
    return paths


#: the monthly discounts tried for a count level (1: a level that never moves, the series' mean)
COUNT_DISCOUNTS = np.round(np.linspace(1.0, 0.5, 11), 2)
#: months of the one-step likelihood left out while the level settles from its start
COUNT_BURN_MONTHS = 6


@dataclass(frozen=True)
class CountLevel:
    """A Poisson-gamma local level of a monthly count (Harvey and Fernandes 1989): after the last month the level is
    Gamma(``shape``, rate ``rate``); a month on it is discounted by ``discount`` (shape and rate both times it: the
    same mean, less certain), so the next month's level is Gamma(discount * shape, discount * rate). A simulation
    draws it once and carries it flat over the horizon, as the other children's level is: the model's own h-step
    paths (Gamma(discount^h shape, discount^h rate) at month h) keep the mean, but their median falls towards 0.

    >>> lvl = fit_count_level(np.r_[np.full(24, 2.0), np.full(9, 20.0), np.full(15, 2.0)])
    >>> bool(1.0 < lvl.mean < 4.0), lvl.discount < 1.0
    (True, True)
    """

    shape: float
    rate: float
    discount: float

    @property
    def mean(self) -> float:
        """The level's mean: the expected count a month."""
        return self.shape / self.rate

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` draws of the next month's level."""
        d = self.discount
        out: np.ndarray = rng.gamma(d * self.shape, 1.0 / (d * self.rate), n)
        return out

    def as_dict(self) -> dict[str, float]:
        """The fit as plain numbers."""
        return {"per_month": float(self.mean), "discount_a_month": float(self.discount),
                "months_of_data_equivalent": float(self.rate * self.discount)}


def fit_count_level(counts: np.ndarray, discounts: np.ndarray = COUNT_DISCOUNTS,
                    burn: int = COUNT_BURN_MONTHS) -> CountLevel:
    """Fit the discount of a Poisson-gamma local level to monthly ``counts`` by the one-step-ahead predictive
    likelihood (negative binomial) of the months after ``burn``. The level starts at half a month's weight at the
    series' mean; each month shape and rate are discounted, then the month's count added to the shape and 1 to the
    rate. A surge that has ended is forgotten at the pace the series' own moves have shown.

    Used for the arrivals of unaccompanied asylum-seeking children, which come as the Home Office and the National
    Transfer Scheme send them: a level of their own, not a share of the other children's entries."""
    from scipy.stats import nbinom

    y = np.asarray(counts, dtype=float)
    mean = max(float(y.mean()), 1e-3) if len(y) else 1e-3
    best: tuple[float, CountLevel] | None = None
    for d in discounts:
        a, b, ll = 0.5 * mean, 0.5, 0.0
        for t, yt in enumerate(y):
            a, b = d * a, d * b
            if t >= burn:
                ll += float(nbinom.logpmf(yt, a, b / (b + 1.0)))
            a, b = a + yt, b + 1.0
        if best is None or ll > best[0] + 1e-9:
            best = (ll, CountLevel(shape=a, rate=b, discount=float(d)))
    assert best is not None
    return best[1]
