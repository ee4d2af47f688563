"""Formats read side by side in other processes give what one process gives, and their errors come back."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from cscflow.errors import SourceError
from cscflow.sources.load import workers
from cscflow.sources.load.read import expand, read_all
from cscflow.synth.run import synthesise


def _frame(x: pd.DataFrame | pa.Table) -> pd.DataFrame:
    return x.to_pandas() if isinstance(x, pa.Table) else x


@pytest.fixture(scope="module")
def returns(tmp_path_factory) -> list[Path]:
    out = tmp_path_factory.mktemp("returns")
    synthesise("tiny", seed=4, out_dir=out, formats=["annex-a", "cin", "903"])
    return [out / "annex_a.xlsx", *sorted(out.glob("cin_census_*.xml")), out / "ssda903"]


def _jobs(returns: list[Path]) -> list[workers.Job]:
    return [("annex-a", [returns[0]], {}), ("cin", returns[1:-1], {}), ("903", expand([returns[-1]]), {})]


def test_other_processes_read_what_this_one_reads(workspace, returns):
    jobs = _jobs(returns)
    assert workers.plan(jobs, cores=2) == [[0, 1, 2]], "a tiny county is not worth a process"
    assert len(workers.plan(jobs, cores=3, worth=0.0, start=0.0)) == 3
    here = [r for got in workers.read_jobs(jobs) for r in got]
    apart = [r for got in workers.run(jobs, cores=3, worth=0.0, start=0.0) for r in got]
    loaded, _ = read_all(workspace, returns)  # what a load reads: the same rows
    assert len(here) == len(apart) == len(loaded) > 3
    assert [r.rows_read for r in loaded] == [r.rows_read for r in here]
    for a, b in zip(here, apart, strict=True):
        assert (a.source, a.format, a.rows_read, a.rows_loaded, a.warnings) == \
               (b.source, b.format, b.rows_read, b.rows_loaded, b.warnings)
        for name in ("children", "episodes", "quarantine", "reviews", "missing", "repairs", "identifiers"):
            pd.testing.assert_frame_equal(_frame(getattr(a, name)), _frame(getattr(b, name)), obj=f"{a.source} {name}")


def test_plan_keeps_the_longest_here_and_balances_the_rest(tmp_path):
    sizes = {"big.xlsx": 8_000_000, "mid.csv": 4_000_000, "small.xml": 30_000_000}
    for name, size in sizes.items():
        (tmp_path / name).write_bytes(b"x" * size)
    jobs = [(f"f{i}", [tmp_path / name], {}) for i, name in enumerate(sizes)]
    # estimates: 6 s, 2.2 s, 1.8 s; another process starts 0.8 s late
    assert workers.plan(jobs, cores=2) == [[0], [1, 2]]
    assert workers.plan(jobs, cores=3) == [[0], [1], [2]]
    assert workers.plan(jobs, cores=1) == [[0, 1, 2]]
    assert workers.plan(jobs, cores=3, worth=2.0) == [[0, 1, 2]], "a process given 1.8 s is not worth starting"


def test_an_error_in_another_process_is_raised_here_with_its_hint(tmp_path, returns):
    bad = tmp_path / "broken.xlsx"
    bad.write_bytes(b"not a workbook")
    jobs: list[workers.Job] = [("annex-a", [returns[0]], {}), ("annex-a", [bad], {})]
    assert workers.plan(jobs, cores=2, worth=0.0, start=0.0) == [[0], [1]], "the broken file is read by the other process"
    with pytest.raises(SourceError) as err:
        workers.run(jobs, cores=2, worth=0.0, start=0.0)
    assert "broken.xlsx" in err.value.message and err.value.hint


def test_a_process_that_cannot_start_has_its_part_read_here(returns, monkeypatch):
    jobs = _jobs(returns)
    here = workers.read_jobs(jobs)
    monkeypatch.setattr(workers.sys, "executable", "/bin/false")  # starts, reads nothing, answers nothing
    apart = workers.run(jobs, cores=3, worth=0.0, start=0.0)
    assert [[r.rows_read for r in got] for got in apart] == [[r.rows_read for r in got] for got in here]
