"""Kaplan-Meier on 1M and 10M children (day-level and continuous times) beside lifelines and
statsmodels in the same run; funnel limits and outliers for all LAs (target < 100 ms).

Run: ``python -m bench stats`` (or ``python bench/bench_stats.py [--quick]``).
"""

from __future__ import annotations

import sys
import time

import numpy as np


def _time(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _data(n: int, days: bool, seed: int = 0):
    rng = np.random.default_rng(seed)
    t = rng.exponential(400, n)
    if days:
        t = np.floor(t)
    e = rng.random(n) < 0.7
    return t, e


def bench_km(sizes=(1_000_000, 10_000_000)) -> None:
    from lifelines import KaplanMeierFitter
    from statsmodels.duration.survfunc import SurvfuncRight

    from cscflow.analytics.survival import KaplanMeier

    print(f"{'n':>11} {'times':>10} {'cscflow s':>10} {'statsmodels s':>14} {'lifelines s':>12} {'vs faster':>10}")
    for n in sizes:
        for days in (True, False):
            t, e = _data(n, days)
            ours = _time(lambda t=t, e=e: KaplanMeier().fit(t, e), 3 if n <= 1_000_000 else 1)
            sm = _time(lambda t=t, e=e: SurvfuncRight(t, e.astype(float)), 3 if n <= 1_000_000 else 1)
            lf = _time(lambda t=t, e=e: KaplanMeierFitter().fit(t, e), 1)
            km = KaplanMeier().fit(t, e)
            ref = SurvfuncRight(t, e.astype(float))
            err = float(np.max(np.abs(km.survival_at(ref.surv_times) - ref.surv_prob)))
            kind = "day-level" if days else "continuous"
            print(f"{n:>11,} {kind:>10} {ours:>10.3f} {sm:>14.3f} {lf:>12.3f} {ours / min(sm, lf):>9.2f}x"
                  f"   (max |S - statsmodels| = {err:.1e})", flush=True)


def bench_funnel() -> None:
    from cscflow import reference
    from cscflow.analytics.benchmarking import la_funnel
    from cscflow.analytics.funnel import FunnelPlot

    df = reference.series("cla_31march", level="la", year=2025).dropna(subset=["count"])
    num, den = df["count"].to_numpy(float), df["denominator"].to_numpy(float)

    def exact() -> None:
        fp = FunnelPlot("rate").fit(num, den, labels=df["code"].tolist())
        _ = fp.outliers_

    def overdispersed() -> None:
        fp = FunnelPlot("rate", overdispersion="additive").fit(num, den, labels=df["code"].tolist())
        _ = fp.outliers_

    def from_bundle() -> None:
        la_funnel("cla_31march", 2025, la="886")

    def naive() -> None:  # baseline: a per-LA Python loop over scipy's scalar quantiles
        from scipy import stats

        r0 = num.sum() / den.sum()
        out = []
        for o, n in zip(num, den, strict=True):
            e = r0 * n
            lo = stats.chi2.ppf(0.001, 2 * e) / 2
            hi = stats.chi2.ppf(0.999, 2 * e + 2) / 2
            out.append(o < lo or o > hi)

    print(f"funnel, {len(df)} LAs (CLA 2025): exact {1000 * _time(exact, 5):.1f} ms, "
          f"additive overdispersion {1000 * _time(overdispersed, 5):.1f} ms, "
          f"from bundled tables incl. lookup {1000 * _time(from_bundle, 5):.1f} ms; "
          f"baseline per-LA scipy loop {1000 * _time(naive, 5):.1f} ms (target < 100 ms)")


def main(argv: list[str] | None = None) -> None:
    quick = "--quick" in (argv if argv is not None else sys.argv[1:])
    bench_funnel()
    bench_km((1_000_000,) if quick else (1_000_000, 10_000_000))


if __name__ == "__main__":
    main()
