"""Ages in the fitted model: stays that end at the 18th birthday, care leavers from care, ages of new arrivals.

A child leaves children's services at 18 (a care leaver's support at 21). The simulation knows when: a child
open at the origin has its birth month, a simulated arrival an age drawn within its age band. So a stay ended
at 18 is not a route to learn but a cap to apply:

- a stay **ended at 18** (any station but care leaver): ended, the child leaving (an exit next, not another
  station), while the child's age, from the 1st of the birth month, was 18 to 18 years and 31 days (the
  birthday falls within the birth month); within the model's durations it is censored there (the stay would
  have gone on) and it is left out of the next-station shares;
- in simulation every stay ends at 18 at the latest (a care leaver's at 21); a looked-after stay that does
  becomes a care leaver's stay, from that day, with the **care-leaver share**

      p_cl = sum_i w_i [the child's next stay is a care leaver's, begun within 31 days] / sum_i w_i

  over the periods of care ended at 18 at least 31 days before the origin (w: the bootstrap's weights); its
  days are the care leavers' durations of the 16-plus band, capped at 21;
- those care leavers' stays (a care leaver's entry within 31 days of care ended at 18) are therefore not
  arrivals: they are left out of the entries a month and the entry mix;
- a simulated arrival's age is drawn from the ages at entry of the same station and age band over the entry
  mix's months (:data:`cscflow.forecast.estimate.NQ` quantiles; the band's ages at all stations under 30
  entries; uniform within the band under 30 there).
"""

from __future__ import annotations

import numpy as np

from cscflow.forecast.estimate import NQ, PROBS

#: days after the 18th birthday computed from the 1st of the birth month within which a stay ended "at 18"
BIRTH_MONTH_DAYS = 31.0
#: days from care ended at 18 to the care leaver's stay that follows it
CARE_LEAVER_GAP = 31.0
#: each band's ages (years), lower and upper
BAND_EDGES = np.array([[0.0, 5.0], [5.0, 11.0], [11.0, 16.0], [16.0, 18.0]])
MIN_AGES = 30


def ended_at_18(age_years: np.ndarray, days: np.ndarray, closed: np.ndarray, not_leaver: np.ndarray) -> np.ndarray:
    """Stays ended at the 18th birthday (module docstring): ``closed`` (and left: an exit next), ``not_leaver`` (any
    station but care leaver) and ended at an age of 18 to 18 years and :data:`BIRTH_MONTH_DAYS` days."""
    age_end = np.asarray(age_years, dtype=float) * 365.25 + np.asarray(days, dtype=float)
    with np.errstate(invalid="ignore"):
        near = (age_end >= 18.0 * 365.25 - 1.0) & (age_end <= 18.0 * 365.25 + BIRTH_MONTH_DAYS)
    out: np.ndarray = near & closed & not_leaver
    return out


def after_care(child: np.ndarray, station: np.ndarray, start_day: np.ndarray, end_day: np.ndarray,
               care: int, leaver: int) -> np.ndarray:
    """For stays in a child's order: the position of the care leaver's stay that follows each ``care`` stay
    within :data:`CARE_LEAVER_GAP` days of its end, or -1."""
    n = len(child)
    if n == 0:
        return np.zeros(0, np.int64)
    nxt = np.r_[np.arange(1, n), 0]
    same = np.r_[child[1:] == child[:-1], False]
    with np.errstate(invalid="ignore"):
        gap = start_day[nxt] - end_day
        follows = same & (station[nxt] == leaver) & (gap >= -1.0) & (gap <= CARE_LEAVER_GAP) & (station == care)
    pos: np.ndarray = np.where(follows, nxt, -1)
    return pos


def care_leaver_share(at18_care: np.ndarray, followed: np.ndarray, w: np.ndarray) -> float:
    """p_cl: the weighted share of the ``at18_care`` periods of care (ended at 18, seen long enough) ``followed``
    by a care leaver's stay; 0 when there are none."""
    tot = float(w[at18_care].sum())
    return float(w[at18_care & followed].sum()) / tot if tot > 0 else 0.0


def age_quantiles(station: np.ndarray, band: np.ndarray, age_years: np.ndarray, n_station: int,
                  n_groups: int = 1) -> np.ndarray:
    """The :data:`NQ` quantiles of the ages (years) of entries by station and band: rows station * (4 * n_groups) +
    band, a band ``group * 4 + age band`` (the model's groups, such as UASC); under :data:`MIN_AGES` entries the
    band's ages at all stations (of its group, then of every group), then uniform within the band."""
    n_a = len(BAND_EDGES)
    out = np.zeros((n_station * n_a * n_groups, NQ))
    ok = np.isfinite(age_years)
    for a in range(n_a * n_groups):
        lo, hi = BAND_EDGES[a % n_a]
        in_band = ok & (band == a)
        any_group = ok & (band % n_a == a % n_a)
        pooled = (np.quantile(age_years[in_band], PROBS) if in_band.sum() >= MIN_AGES
                  else np.quantile(age_years[any_group], PROBS) if any_group.sum() >= MIN_AGES
                  else lo + PROBS * (hi - lo))
        for s in range(n_station):
            m = in_band & (station == s)
            out[s * n_a * n_groups + a] = np.quantile(age_years[m], PROBS) if m.sum() >= MIN_AGES else pooled
    return out


def draw_ages(q: np.ndarray, row: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Ages from the quantile rows ``q[row]`` at probabilities ``u`` (linear between quantiles)."""
    pos = u * (NQ - 1)
    i = np.minimum(pos.astype(np.int64), NQ - 2)
    f = pos - i
    ages: np.ndarray = q[row, i] * (1 - f) + q[row, i + 1] * f
    return ages
