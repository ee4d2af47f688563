"""``/api/report``: the web app's "Download report" gives the same disclosed report as the CLI."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient


def test_download_report(tiny_ws):
    from cscflow.web import create_app

    app = create_app(tiny_ws)
    try:
        client = TestClient(app, base_url="http://127.0.0.1:8765")
        r = client.get("/api/report", params={"start": "2016-04-01", "end": "2017-03-31", "date": "2016-12-31",
                                              "sex": "F"})
        assert r.status_code == 200, r.text[:300]
        assert r.headers["content-disposition"].startswith("attachment")
        text = r.text
        assert "How numbers were suppressed" in text and "Children at each station on 31 December 2016" in text
        assert "cohort sex=F" in text
        cells = re.findall(r'<td[^>]*data-col="(?:entered|children|open|n|cases|transitions)">([^<]*)</td>', text)
        assert cells and not {"1", "2", "3", "4"} & set(cells)
        assert client.get("/api/report", params={"nope": "1"}).status_code == 422
        assert 'href="/api/report"' in client.get("/").text
    finally:
        app.state.cscflow.close()
