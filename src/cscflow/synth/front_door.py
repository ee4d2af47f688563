"""The front door: families' referral dates (first and repeat), contacts and early help.

A *family* arrives at its first referral on a day drawn from the county's daily contact
intensity (weekday, bank holiday and school-holiday seasonality, a demand trend). Its next
referral follows a gap drawn so that, of all referrals, a share ``within_12m`` follows a
previous one within 12 months and ``within_36m`` within 36 months (Kent's figures). Every
child of the family under 18 is referred on those dates.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cscflow.synth.population import ChildRegistry, age_days
from cscflow.synth.sampling import categorical, day_weights, snap_to_weekday


def rereferral_gaps(rng: np.random.Generator, n: int, rr: dict[str, Any]) -> np.ndarray:
    """Days to the family's next referral, or -1 for none (vectorised)."""
    ever, w12, w36 = float(rr["ever"]), float(rr["family_within_12m"]), float(rr["family_within_36m"])
    lo = int(rr["min_gap_days"])
    u = rng.random(n)
    v = rng.random(n)
    gap = np.full(n, -1, dtype=np.int64)
    a = u < w12
    b = (u >= w12) & (u < w36)
    c = (u >= w36) & (u < ever)
    # within 12 months: more early than late
    gap[a] = lo + ((365 - lo) * v[a] ** 1.4).astype(np.int64)
    gap[b] = 366 + ((1095 - 366) * v[b] ** 1.2).astype(np.int64)
    gap[c] = 1096 + ((2190 - 1096) * v[c]).astype(np.int64)
    return gap


def families(rng: np.random.Generator, params: dict[str, Any], first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
    """First-referral days of new families and the family index for each (first..last inclusive)."""
    fd, pop = params["front_door"], params["population"]
    w = day_weights(first, last, fd)
    years = (np.arange(first, last + 1) - first) / 365.25
    span = years[-1] if len(years) else 0
    trend = (1 + fd["trend_per_year"]) ** (years - span)  # the last year is the reference level
    per_day = fd["first_referral_rate_per_10k"] / 10000 * pop["children_0_17"] / 365.25
    lam = per_day * w / w.mean() * trend
    counts = rng.poisson(lam)
    days = np.repeat(np.arange(first, last + 1), counts)
    return days, np.arange(len(days))


def family_children(rng: np.random.Generator, params: dict[str, Any], reg: ChildRegistry, fam_day: np.ndarray,
                    fam_id: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Register each family's children (the referred child and siblings); returns (child, family) arrays."""
    pop = params["population"]
    n = len(fam_day)
    ages = age_days(rng, n, pop["referral_rate_by_age"])
    unborn = rng.random(n) < pop["unborn_share"]
    ages[unborn] = -rng.integers(14, 120, unborn.sum())  # expected within four months
    m = float(pop["family_extra_children"])
    extra = np.minimum(rng.geometric(1 / (1 + m), n) - 1, 5)
    extra[unborn] = 0
    # siblings: 1-6 years apart from the first child, all born and under 18 on the first referral
    sib_fam = np.repeat(np.arange(n), extra)
    sib_age = ages[sib_fam] + rng.choice([-1, 1], len(sib_fam)) * rng.integers(365, 6 * 365, len(sib_fam))
    ok = (sib_age >= 0) & (sib_age < 18 * 365)
    sib_fam, sib_age = sib_fam[ok], sib_age[ok]
    all_fam = np.concatenate([np.arange(n), sib_fam])
    all_age = np.concatenate([ages, sib_age])
    eth = rng.choice(len(reg.eth_codes), size=n, p=reg.eth_p)
    district = rng.choice(len(reg.districts), size=n, p=reg.district_p)
    child = reg.add(
        fam_day[all_fam] - all_age,
        family=fam_id[all_fam],
        eth=eth[all_fam],
        district=district[all_fam],
        unborn=np.concatenate([unborn, np.zeros(len(sib_fam), bool)]),
    )
    return child, all_fam


def referral_chains(rng: np.random.Generator, params: dict[str, Any], fam_day: np.ndarray, last: int
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All referral days of every family: (family index, referral number 0.., day), up to ``last``."""
    rr = params["front_door"]["rereferral"]
    fams, gens, days = [np.arange(len(fam_day))], [np.zeros(len(fam_day), np.int64)], [fam_day]
    cur_f, cur_d, g = np.arange(len(fam_day)), fam_day.copy(), 0
    fd = params["front_door"]
    while len(cur_f):
        gap = rereferral_gaps(rng, len(cur_f), rr)
        nxt = cur_d + gap
        keep = (gap >= 0) & (nxt <= last)
        cur_f, cur_d = cur_f[keep], snap_to_weekday(rng, nxt[keep], fd)
        keep = cur_d <= last
        cur_f, cur_d = cur_f[keep], cur_d[keep]
        g += 1
        fams.append(cur_f)
        gens.append(np.full(len(cur_f), g))
        days.append(cur_d)
    return np.concatenate(fams), np.concatenate(gens), np.concatenate(days)


def contact_sources(rng: np.random.Generator, n: int, fd: dict[str, Any]) -> np.ndarray:
    """DfE referral source codes for ``n`` contacts."""
    codes = np.array(list(fd["contact_sources"]), dtype=object)
    picked: np.ndarray = codes[categorical(rng, n, fd["contact_sources"])]
    return picked
