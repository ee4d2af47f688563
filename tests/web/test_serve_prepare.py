"""`cscflow serve` stores the England map's timeline in a workspace loaded without one (an older cscflow), and
never creates a workspace where there is none."""

from __future__ import annotations

import small_county


def test_serve_stores_a_missing_timeline_and_the_app_reads_it(tmp_path):
    from fastapi.testclient import TestClient

    from cscflow import Workspace
    from cscflow.journeys import timeline
    from cscflow.journeys import timeline_store as store
    from cscflow.web import _store_timeline, create_app

    ws_dir = small_county.build(tmp_path / "ws")
    with Workspace(ws_dir) as ws:
        for name in store.stored_names(ws):   # as loaded by a version that stored none
            ws.drop_table(name)
    _store_timeline(ws_dir)
    with Workspace(ws_dir, read_only=True) as ws:
        [name] = store.stored_names(ws)
    app = create_app(ws_dir)
    try:
        assert TestClient(app, base_url="http://127.0.0.1").get("/api/tracks").status_code == 200
        assert name in timeline.cached_tables(app.state.cscflow.ws)   # read from the file, not rebuilt
    finally:
        app.state.cscflow.close()


def test_serve_creates_no_workspace_where_there_is_none(tmp_path):
    from cscflow.web import _store_timeline

    _store_timeline(tmp_path / "typo")
    assert not (tmp_path / "typo").exists()
