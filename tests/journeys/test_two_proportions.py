"""before-after's tests without scipy.stats (0.8 s to import in every `cscflow flow` process): Fisher's exact
p-value and the z test's p-value equal scipy.stats' on random and edge tables."""

from __future__ import annotations

import random

import pytest
from scipy import stats

from cscflow.journeys.flow.csc import fisher_exact_p, two_proportions


def test_fisher_matches_scipy_on_random_tables():
    rng = random.Random(7)
    for _ in range(2000):
        n1, n2 = rng.randint(1, 400), rng.randint(1, 400)
        k1, k2 = rng.randint(0, n1), rng.randint(0, n2)
        want = stats.fisher_exact([[k1, n1 - k1], [k2, n2 - k2]]).pvalue
        assert fisher_exact_p(k1, n1, k2, n2) == pytest.approx(want, rel=1e-9, abs=1e-300)


@pytest.mark.parametrize("table", [(0, 5, 0, 5), (5, 5, 5, 5), (0, 1, 1, 1), (0, 1000, 1000, 1000), (3, 7, 3, 7)])
def test_fisher_edges_and_z(table):
    k1, n1, k2, n2 = table
    want = stats.fisher_exact([[k1, n1 - k1], [k2, n2 - k2]]).pvalue
    assert fisher_exact_p(*table) == pytest.approx(want, rel=1e-9, abs=1e-300)
    r = two_proportions(*table)
    if r["z"] == r["z"]:  # defined
        assert r["p_z"] == pytest.approx(2 * stats.norm.sf(abs(r["z"])), rel=1e-12)
