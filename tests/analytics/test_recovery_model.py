"""What the synthetic county's parameters imply for time in care and routes out of care.

An independent, deterministic derivation (no simulation): the rules of
``cscflow.synth.looked_after.build_periods`` written as probability mass functions on a daily
grid, from the lognormal duration parameters (scipy) and the branch probabilities in
``county.parameters``. Each period of care is described by two inputs taken from the truth:
its kind at entry (s20 V2/L1, s20 L2, court C1, unaccompanied) and the days from entry to the
child's 18th birthday (every period ends then). The implied share of periods that left care by
route r within t days is the mean over periods of P(T <= t, route r | kind, days to 18).

The rules (days from entry to leaving, T, "uncapped" before the 18th birthday cap):

* s20 entry: an exit X is drawn: home (``returned_home_days``), other (``other_days``) or at 18
  (``left_care_18`` + ``long_stay``). With probability ``v2_to_proceedings`` (1 for L2) the
  period drifts to court: an application A days after entry (``v2_to_proceedings_days``; for L2
  the end of the emergency order, ``emergency_days``). If A < X the court settles the exit:
  final order D = max(28, ``proceedings.days``) after the application, then by the order
  (``final_orders_looked_after``): SGO / CAO leave at the final order (route sgo/cao),
  supervision / no order go home at the final order, a placement order is followed by adoption
  max(30, ``adoption_after_placement_order_days``) later, a care order by discharge home
  (``order_discharged_days``, probability 0.35) or stays to 18.
* court entry (interim care order, C1): entry = application + max(0, ``interim_days``); the
  exit follows the final order as above.
* unaccompanied children: to 18, or (probability 0.1) other after ``other_days``.

Durations are whole days ``rint(median * exp(sigma z))``, so each has the pmf
``F(k + 1/2) - F(k - 1/2)`` of the lognormal CDF F.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

L = 1 << 13  # days on the grid (22 years: past every 18th birthday)
ROUTES = ["home", "sgo/cao", "adoption", "18+", "other"]
#: the probability of discharge home after a care order (looked_after.build_periods: rng < 0.35)
CARE_ORDER_HOME = 0.35
#: unaccompanied children leaving for an "other" reason (looked_after.build_periods: rng < 0.1)
UASC_OTHER = 0.1


def rint_lognormal(spec: dict, floor: int = 0) -> np.ndarray:
    """pmf on 0..L-1 of max(floor, rint(median * exp(sigma Z))) (mass beyond the grid dropped)."""
    dist = stats.lognorm(s=float(spec["sigma"]), scale=float(spec["median"]))
    edges = np.r_[0.0, np.arange(L) + 0.5]
    pmf = np.diff(dist.cdf(edges))
    if floor:
        pmf[floor] += pmf[:floor].sum()
        pmf[:floor] = 0.0
    return pmf


def _conv(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.convolve(a, b)[:L]


def _shares(probs: dict) -> dict:
    total = float(sum(probs.values()))
    return {k: v / total for k, v in probs.items()}


def after_final(params: dict) -> dict[str, np.ndarray]:
    """Sub-pmfs by route of the days from the final order to leaving (to-18 mass left out)."""
    la = params["looked_after"]
    order = _shares(params["proceedings"]["final_orders_looked_after"])
    at0 = np.zeros(L)
    at0[0] = 1.0
    out = {r: np.zeros(L) for r in ROUTES}
    out["sgo/cao"] += (order.get("sgo", 0) + order.get("cao", 0)) * at0
    out["home"] += (order.get("supervision_order", 0) + order.get("no_order", 0)) * at0
    out["adoption"] += order.get("placement_order", 0) * rint_lognormal(la["adoption_after_placement_order_days"], 30)
    out["home"] += order.get("care_order", 0) * CARE_ORDER_HOME * rint_lognormal(la["order_discharged_days"])
    return out


def kind_pmfs(params: dict) -> dict[str, dict[str, np.ndarray]]:
    """For each entry kind ('s20', 'L2', 'court', 'uasc'): sub-pmfs by route of the uncapped days
    from entry to leaving (the rest of the mass leaves at 18)."""
    la, pr = params["looked_after"], params["proceedings"]
    ex = _shares(la["exit_s20"])
    home = ex["returned_home"] * rint_lognormal(la["returned_home_days"], 1)
    other = ex["other"] * rint_lognormal(la["other_days"], 1)
    x_total = home + other
    surv_x = 1.0 - np.cumsum(x_total)  # P(X > a), X = infinity (to 18) included
    final = rint_lognormal(pr["days"], 28)
    court = {r: _conv(final, e) for r, e in after_final(params).items()}  # application -> leaving
    out = {}
    for kind, q, app in (("s20", float(pr["v2_to_proceedings"]), rint_lognormal(pr["v2_to_proceedings_days"])),
                         ("L2", 1.0, rint_lognormal(la["emergency_days"], 1))):
        settle = app * surv_x  # applied before the s20 exit
        not_yet = 1.0 - np.cumsum(app) + app  # P(A >= t)
        sub = {r: q * _conv(settle, court[r]) for r in ROUTES}
        sub["home"] += (1 - q) * home + q * home * not_yet
        sub["other"] += (1 - q) * other + q * other * not_yet
        out[kind] = sub
    # court entry: leaving - interim = (final - application) - (interim - application) + after_final
    interim = rint_lognormal(pr["interim_days"])
    shift = 128  # index offset so that final - interim may go below 0
    k = np.flatnonzero(interim[:shift] > 0)  # beyond: mass below 1e-13
    d = np.zeros(L + shift)
    for i in k:
        d[shift - i: shift - i + L] += interim[i] * final
    sub = {}
    for r, e in after_final(params).items():
        full = np.convolve(d, e)[: L + shift]
        v = full[shift:].copy()
        v[1] += full[: shift + 1].sum()  # leaving on or before entry: one day (exit >= entry + 1)
        v[0] = 0.0
        sub[r] = v[:L]
    out["court"] = sub
    u = {r: np.zeros(L) for r in ROUTES}
    u["other"] = UASC_OTHER * rint_lognormal(la["other_days"], 1)
    out["uasc"] = u
    return out


def implied_cif(params: dict, kinds: np.ndarray, to18: np.ndarray, times: np.ndarray) -> dict[str, np.ndarray]:
    """Implied cumulative incidence by route at ``times`` (days) for periods of the given kinds
    and days from entry to the 18th birthday: mean over periods of P(T <= t, route)."""
    pm = kind_pmfs(params)
    times = np.asarray(times, dtype=np.int64)
    out = {r: np.zeros(len(times)) for r in ROUTES}
    kinds = np.asarray(kinds, dtype=object)
    to18 = np.asarray(to18, dtype=np.int64)
    n = len(kinds)
    for kind in np.unique(kinds):
        sel = kinds == kind
        a = to18[sel]
        cum = {r: np.cumsum(pm[kind][r]) for r in ROUTES}
        before18 = sum(cum[r] for r in ROUTES)  # P(T <= t) uncapped, routes other than at 18
        lim = np.minimum(times[None, :], a[:, None] - 1)  # leaving by route r needs T < days to 18
        for r in ROUTES:
            c = np.where(lim >= 0, cum[r][np.clip(lim, 0, L - 1)], 0.0)
            out[r] += c.sum(axis=0) / n
        # at 18: the rest of the mass, for periods whose 18th birthday is within t
        rest = 1.0 - before18[np.clip(a - 1, 0, L - 1)]
        out["18+"] += ((a[:, None] <= times[None, :]) * rest[:, None]).sum(axis=0) / n
    return out


# -- checks of the derivation itself ---------------------------------------------------------------

def test_rint_lognormal_is_a_pmf_with_the_median():
    pmf = rint_lognormal({"median": 150, "sigma": 1.0}, floor=1)
    beyond = stats.lognorm(s=1.0, scale=150).sf(L - 0.5)  # past the grid: leaves at 18 in the model
    assert abs(pmf.sum() + beyond - 1) < 1e-12 and pmf[0] == 0
    assert np.searchsorted(np.cumsum(pmf), 0.5) == 150


def test_derivation_agrees_with_the_simulations_own_period_builder():
    """The pmfs against ``build_periods`` run on 100,000 made-up entries (the rules' code, not the
    county): every route's share by 180, 365 and 730 days within 4 binomial standard errors."""
    from cscflow.synth.looked_after import build_periods
    from cscflow.synth.params import load_parameters

    params = load_parameters("county")
    pm = kind_pmfs(params)
    n = 100_000
    rng = np.random.default_rng(5)
    kind = np.where(np.arange(n) % 4 == 0, "court", "s20").astype(object)
    entries = {"child": np.arange(n), "need": np.arange(n), "day": np.full(n, 20_000), "kind": kind,
               "application": np.where(kind == "court", 19_990, -1), "final": np.full(n, -1),
               "order": np.full(n, None, dtype=object)}
    court = kind == "court"
    entries["final"][court] = 19_990 + np.maximum(28, np.rint(200 * np.exp(0.4 * rng.standard_normal(court.sum()))))
    entries["order"][court] = rng.choice(list(params["proceedings"]["final_orders_looked_after"]), court.sum(),
                                         p=list(params["proceedings"]["final_orders_looked_after"].values()))
    per = build_periods(rng, params, entries, np.full(n, 20_000 - 365))  # one year old: 17 years to 18
    t_days = per["exit"] - per["day"]
    route = pd.Series(per["exit_kind"]).map({"returned_home": "home", "sgo": "sgo/cao", "cao": "sgo/cao",
                                             "adoption": "adoption", "left_care_18": "18+", "other": "other"})
    status = per["entry_status"]
    for k, sel in (("s20", (kind == "s20") & (status != "L2")), ("L2", status == "L2")):
        for t in (180, 365, 730):
            for r in ("home", "sgo/cao", "adoption", "other"):
                got = float(((t_days[sel] <= t) & (route[sel] == r).to_numpy()).mean())
                want = float(pm[k][r][: t + 1].sum())
                se = np.sqrt(max(want * (1 - want), 1e-4) / sel.sum())
                assert abs(got - want) <= 4 * se, (k, r, t, got, want)
