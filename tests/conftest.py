"""Shared fixtures: a fresh DuckDB workspace, one local Spark session, paths to shared data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Third-party fixture files (read-only), beside the checkout as ../shared/data.
SHARED_DATA = Path(os.environ.get("CSCFLOW_SHARED_DATA", ROOT.parent / "shared" / "data"))
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"third-party fixtures not found at {SHARED_DATA}; set CSCFLOW_SHARED_DATA")
    return SHARED_DATA


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
