"""Web API fixtures: one small workspace and the app's in-process client (loopback Host)."""

from __future__ import annotations

import pytest
import small_county


@pytest.fixture(scope="session")
def web_workspace(tmp_path_factory):
    return small_county.build(tmp_path_factory.mktemp("webapi") / "ws")


@pytest.fixture(scope="session")
def app(web_workspace):
    from cscflow.web import create_app

    app = create_app(web_workspace)
    yield app
    app.state.cscflow.close()


@pytest.fixture(scope="session")
def client(app):
    from fastapi.testclient import TestClient

    return TestClient(app, base_url="http://127.0.0.1:8765")


@pytest.fixture(scope="session")
def engine(app):
    """(workspace, process map) the app serves, for computing the expected answers."""
    st = app.state.cscflow
    return st.ws, st.pmap
