"""The map page's downloads follow its view (issue 17): "Download report" carries the slider's period, the date
shown and the cohort filter; "Download video" the date shown, the speed, the convention and the cohort, and what
it links to is an MP4 of that view."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlparse

import pytest
from browser_kit import wait_for

pytestmark = pytest.mark.browser


def link(page, id_: str) -> tuple[str, dict[str, list[str]]]:
    url = urlparse(page.get_attribute(f"#{id_}", "href"))
    return url.path, parse_qs(url.query)


def test_download_links_follow_the_view(page, server, tmp_path):
    page.goto(f"{server.url}/?play=0")
    wait_for(page, "window.cscflow && window.cscflow.ready")
    first, last = page.evaluate("cscflow.window")
    d0, d1 = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    day = (d0 + (d1 - d0) / 3).isoformat()
    a_year_on = min(d1, dt.date.fromisoformat(day) + dt.timedelta(days=365))
    page.evaluate(f"cscflow.setDate('{day}')")
    wait_for(page, f"cscflow.date === '{day}'")
    page.select_option("select[data-filter=sex]", "F")
    wait_for(page, "cscflow.ready && document.getElementById('download-report').href.includes('sex=F')")
    path, q = link(page, "download-report")
    assert path == "/api/report"
    assert q == {"start": [first], "end": [last], "date": [day], "sex": ["F"]}
    page.evaluate("cscflow.setSpeed(60)")
    path, q = link(page, "download-video")
    assert path == "/api/video"
    assert q["start"] == [day] and q["end"] == [a_year_on.isoformat()] and q["sex"] == ["F"]
    assert q["days_per_second"] == ["60.00"] and q["convention"] == ["travel"]
    page.evaluate("cscflow.setSpeed(1)")                 # slow: at most two minutes of video (3,600 frames)
    _, q = link(page, "download-video")
    slow_end = min(d1, dt.date.fromisoformat(day) + dt.timedelta(days=118))
    assert q["end"] == [slow_end.isoformat()] and q["days_per_second"] == ["1.00"]
    page.evaluate("cscflow.setSpeed(60)")
    # what the link gives: an MP4 of that view (asked for smaller here, to keep the test short)
    href = page.get_attribute("#download-video", "href")
    r = page.request.get(f"{server.url}{href}&size=640x360&fps=10", timeout=120_000)
    assert r.status == 200 and r.headers["content-type"] == "video/mp4"
    assert "attachment" in r.headers["content-disposition"]
    out = tmp_path / "view.mp4"
    out.write_bytes(r.body())
    import av

    with av.open(str(out)) as f:
        frames = sum(1 for _ in f.decode(video=0))
    assert frames == round((a_year_on - dt.date.fromisoformat(day)).days * 10 / 60)
