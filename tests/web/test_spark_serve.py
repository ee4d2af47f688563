"""A Spark workspace served by the web app (create_app takes a workspace): the same answers as DuckDB's."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.spark

TABLES = ("episodes", "children", "events")


def _copy(duck, spark_ws) -> None:
    spark_ws.set(la=duck.la)
    for name in TABLES:
        frame = duck.table(name).execute()
        spark_ws.write(name, frame, mode="replace")


def test_a_spark_workspace_is_served_like_its_duckdb_copy(web_workspace, spark_workspace):
    from fastapi.testclient import TestClient

    from cscflow import Workspace
    from cscflow.web import create_app

    with Workspace(web_workspace, read_only=True) as duck:
        _copy(duck, spark_workspace)
        duck_app = create_app(duck)
        spark_app = create_app(spark_workspace)
        assert spark_app.state.cscflow.ws is spark_workspace
        dc = TestClient(duck_app, base_url="http://127.0.0.1")
        sc = TestClient(spark_app, base_url="http://127.0.0.1")
        for url in ("/api/flow/conversion?start=2021-06-01&end=2023-06-30&suppress=false",
                    "/api/flow/rereferrals?suppress=false", "/api/events", "/api/map"):
            d, s = dc.get(url), sc.get(url)
            assert s.status_code == 200, (url, s.text[:300])
            assert s.json() == d.json(), url
        d, s = dc.get("/api/tracks?convention=queue"), sc.get("/api/tracks?convention=queue")
        assert s.status_code == 200 and s.content == d.content
    # the app does not close a workspace it was given: the caller still can use it
    spark_app.state.cscflow.close()
    assert spark_workspace.count("episodes") > 0
