"""The one county-size check: the county preset's legal sheet (about 1,700 rows) against its truth."""

from __future__ import annotations

import time

import pytest
from tests.linkage.conftest import accuracy, build

from cscflow.linkage import link_proceedings


@pytest.mark.slow
def test_county_precision_recall_and_time(tmp_path):
    ws, truth, _ = build(tmp_path, "county", seed=1)
    t0 = time.perf_counter()
    result = link_proceedings(ws)
    secs = time.perf_counter() - t0
    precision, recall = accuracy(result.rows, truth)
    print(f"county: {len(result.rows):,} legal rows, precision {precision:.4f}, recall {recall:.4f}, {secs:.1f} s")
    assert len(result.rows) > 1000
    assert precision >= 0.995 and recall >= 0.98
    # what the threshold misses is mostly in the review band or ambiguous, not silently unlinked
    m = result.rows.merge(truth[["row", "true_child"]], left_on="source_row", right_on="row")
    wrong = m[m["true_child"].notna() & ((m["status"] != "linked") | (m["child_id"] != m["true_child"]))]
    assert len(wrong) <= 0.02 * m["true_child"].notna().sum()
    ws.close()
