"""Shared fixtures: a fresh DuckDB workspace, one local Spark session, paths to shared data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Third-party fixture files (read-only), beside the checkout as ../shared/data (see its PROVENANCE.md).
SHARED_DATA = Path(os.environ.get("CSCFLOW_SHARED_DATA", ROOT.parent / "shared" / "data"))
#: Set by .ci/run: a missing fixture folder fails the tests that need it instead of skipping them.
REQUIRE_SHARED = os.environ.get("CSCFLOW_REQUIRE_SHARED_DATA", "") not in ("", "0")
ARTIFACTS = ROOT / "test-artifacts"
_SKIP_REASON = "third-party fixtures not found"
_skipped_for_fixtures: list[str] = []


def require_shared_data() -> Path:
    """The third-party fixture folder; skips the calling test when it is absent (fails under CI's
    CSCFLOW_REQUIRE_SHARED_DATA=1, so CI never skips them silently)."""
    if SHARED_DATA.is_dir():
        return SHARED_DATA
    if REQUIRE_SHARED:
        pytest.fail(f"{_SKIP_REASON} at {SHARED_DATA} and CSCFLOW_REQUIRE_SHARED_DATA is set; "
                    "set CSCFLOW_SHARED_DATA to the folder holding PROVENANCE.md")
    pytest.skip(f"{_SKIP_REASON} at {SHARED_DATA}")


@pytest.fixture
def shared_data() -> Path:
    return require_shared_data()


def pytest_runtest_logreport(report):
    if report.skipped and isinstance(report.longrepr, tuple) and _SKIP_REASON in str(report.longrepr[2]):
        _skipped_for_fixtures.append(report.nodeid)


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter):
    if _skipped_for_fixtures:
        terminalreporter.write_line(
            f"{len(_skipped_for_fixtures)} tests skipped: the third-party fixtures are not at {SHARED_DATA}; "
            "set CSCFLOW_SHARED_DATA to a copy of them (see docs/guide.md, 'Running the tests') to run them too.",
            yellow=True, bold=True)


@pytest.fixture
def workspace(tmp_path):
    from cscflow import Workspace

    ws = Workspace(tmp_path / "ws", la="886")
    yield ws
    ws.close()


@pytest.fixture(scope="session")
def spark():
    """One local[2] Spark session for the whole run (starting one takes ~10 s)."""
    from pyspark.sql import SparkSession

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # never bind Spark to a network interface

    warehouse = ROOT / ".pytest_cache" / "spark-warehouse"
    session = (
        SparkSession.builder.master("local[2]")
        .appName("cscflow-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", str(warehouse))
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture
def spark_workspace(spark, tmp_path, request):
    from cscflow import Workspace

    db = "t_" + "".join(ch if ch.isalnum() else "_" for ch in request.node.name)[:60].lower()
    ws = Workspace.from_spark(spark, database=db, key_file=tmp_path / "key")
    yield ws
    spark.sql(f"DROP DATABASE IF EXISTS `{db}` CASCADE")
