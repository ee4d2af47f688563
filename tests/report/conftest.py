"""The tiny synthetic county, loaded once, and its report written once (both shared by the report tests)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_ws(tmp_path_factory) -> Path:
    from cscflow.cli.demo import build_demo
    from cscflow.synth.writers import defaults

    # without the person list: the demo is then not linked, and the report must say so (test_report)
    return build_demo(tmp_path_factory.mktemp("report"), seed=0, preset="tiny", formats=defaults(), echo=lambda _m: None)


@pytest.fixture(scope="session")
def report_file(tiny_ws, tmp_path_factory) -> Path:
    from click.testing import CliRunner

    from cscflow.cli import cli

    out = tmp_path_factory.mktemp("report-out") / "report.html"
    r = CliRunner().invoke(cli, ["report", str(tiny_ws), "--at", "2017-06-30", "--at", "2018-03-31",
                                 "--out", str(out)])
    assert r.exit_code == 0, r.output
    return out
