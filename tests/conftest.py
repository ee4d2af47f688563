"""Shared fixtures: a fresh DuckDB workspace, one local Spark session, paths to shared data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fixture_data import _SKIP_REASON, SHARED_DATA, require_shared_data

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
_skipped_for_fixtures: list[str] = []


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
    spark.catalog.setCurrentDatabase("default")  # the session must not stay in the dropped database
