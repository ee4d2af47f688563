"""``/api/video``: the web app's "Download video" gives the map's MP4 for the view asked for, bounded."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


@pytest.fixture(scope="module")
def client(tiny_ws):
    from cscflow.web import create_app

    app = create_app(tiny_ws)
    yield TestClient(app, base_url="http://127.0.0.1:8765")
    app.state.cscflow.close()


def test_download_video(client, tmp_path):
    import av

    r = client.get("/api/video", params={"start": "2017-01-01", "end": "2017-01-21", "days_per_second": "10",
                                         "fps": "10", "size": "640x360", "sex": "F"})
    assert r.status_code == 200, r.text[:300]
    assert r.headers["content-type"] == "video/mp4"
    assert r.headers["content-disposition"].startswith("attachment")
    (tmp_path / "v.mp4").write_bytes(r.content)
    with av.open(str(tmp_path / "v.mp4")) as f:
        frames = [fr for fr in f.decode(video=0)]
    assert len(frames) == 20 and (frames[0].width, frames[0].height) == (640, 360)
    assert 'id="download-video"' in client.get("/").text


@pytest.mark.parametrize(("params", "message"), [
    ({"size": "641x360"}, "cannot be made"),
    ({"size": "big"}, "is not WIDTHxHEIGHT"),
    ({"convention": "fly"}, "convention"),
    ({"start": "2010-01-01", "end": "2018-01-01", "days_per_second": "1"}, "frames"),
    ({"shoe": "7"}, "unknown parameter"),
    ({"days_per_second": "0"}, "days_per_second"),
])
def test_bad_requests(client, params, message):
    r = client.get("/api/video", params=params)
    assert r.status_code == 422 and message in r.json()["detail"], r.text
