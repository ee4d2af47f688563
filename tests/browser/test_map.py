"""The dynamic map in Debian's Chromium: offline, every station drawn, playback, counts equal the engine."""

from __future__ import annotations

import json
import time

import pytest
from browser_kit import screenshot, wait_for

pytestmark = pytest.mark.browser
DAY = "2022-06-01"


def engine_counts(server, day, where=None) -> dict[str, int]:
    from cscflow.journeys.flow import stations_on

    st = server.app.state.cscflow
    with st.lock:
        frame = stations_on(st.ws, st.pmap, day, where=where)
    return {s: int(c) for s, c in zip(frame["station"], frame["children"], strict=True)}


def open_map(page, server, query=""):
    page.goto(f"{server.url}/{query}")
    wait_for(page, "window.cscflow && window.cscflow.ready")


def test_page_loads_offline_and_draws_every_station(page, server):
    open_map(page, server, f"?date={DAY}")
    st = server.app.state.cscflow
    assert page.locator("#map-under .station").count() == len(st.pmap.stations)
    drawn = page.eval_on_selector_all("#map-under .station", "els => els.map(e => e.dataset.station)")
    assert drawn == [s["id"] for s in st.pmap.stations]
    hook = page.evaluate("({r: cscflow.renderer, n: cscflow.dotsDrawn, d: cscflow.date, dev: cscflow.device})")
    assert hook["r"] == "webgl2" and hook["d"] == DAY and hook["n"] > 0
    assert page.requests_seen and all(u.startswith(server.url + "/") for u in page.requests_seen), page.requests_seen
    assert page.console_errors == [] and page.csp_violations == []
    screenshot(page, "map_webgl")


def test_playing_advances_the_date(page, server):
    open_map(page, server, "?date=2021-06-01")
    page.locator("#speed").fill("100")
    page.click("#play")
    time.sleep(1.5)
    page.click("#play")
    after = page.evaluate("cscflow.date")
    assert after > "2021-06-20", after  # a year per ten seconds: ~50 days in 1.5 s
    assert page.locator("#date").get_attribute("data-iso") == after


@pytest.mark.parametrize("day", [DAY, "2023-02-14"])
def test_station_counts_equal_the_engine(page, server, day):
    open_map(page, server, "?date=2021-05-01")
    page.fill("#jump", day)
    page.dispatch_event("#jump", "change")
    wait_for(page, f"cscflow.date === '{day}'")
    counts = page.evaluate("cscflow.stationCounts")
    assert counts == engine_counts(server, day)
    shown = page.locator('#map-over .count[data-station="cin_plan"] .here').text_content()
    assert shown == str(counts.get("cin_plan", "")), shown


def test_cohort_filter_changes_counts_to_the_engines(page, server):
    open_map(page, server, f"?date={DAY}")
    everyone = page.evaluate("cscflow.stationCounts")
    page.select_option('#filters select[data-filter="sex"]', "F")
    # ready may still be the unfiltered page's: wait until the counts have moved too
    wait_for(page, f"cscflow.ready && JSON.stringify(cscflow.stationCounts) !== {json.dumps(json.dumps(everyone))}")
    girls = page.evaluate("cscflow.stationCounts")
    assert girls == engine_counts(server, DAY, {"sex": "F"}) != everyone
    page.select_option('#filters select[data-filter="team"]', "North")
    # the same race again: ready may still be the girls' page until the team's counts arrive
    wait_for(page, f"cscflow.ready && JSON.stringify(cscflow.stationCounts) !== {json.dumps(json.dumps(girls))}")
    assert page.evaluate("cscflow.stationCounts") == engine_counts(server, DAY, {"sex": "F", "team": "North"})
    screenshot(page, "map_filtered")


def test_station_panel_shows_the_apis_numbers(page, server):
    open_map(page, server, f"?date={DAY}")
    page.click('#map-under .station[data-station="cin_plan"]', force=True)
    wait_for(page, "document.querySelector('#panel').dataset.loaded === 'cin_plan'", timeout=60)
    api = page.request.get(f"{server.url}/api/stations/cin_plan?date={DAY}").json()
    assert page.locator('[data-field="here_now"]').inner_text() == str(api["here_now"])
    assert page.locator('[data-field="arrived_week"]').inner_text() == str(api["arrived_week"])
    assert page.locator('table[data-section="onward"] tbody tr').count() == len(api["onward"])
    medians = page.locator('table[data-section="durations"] td[data-col="median"]').evaluate_all(
        "els => els.map(e => Number(e.dataset.value))")
    assert medians == pytest.approx([r["median"] for r in api["durations"]])
    screenshot(page, "station_panel")


def test_canvas_fallback_draws_the_same_dots(page, server):
    open_map(page, server, f"?date={DAY}")
    webgl = page.evaluate("[cscflow.dotsDrawn, cscflow.stationCounts]")
    open_map(page, server, f"?date={DAY}&renderer=canvas")
    assert page.evaluate("cscflow.renderer") == "canvas2d"
    assert page.evaluate("[cscflow.dotsDrawn, cscflow.stationCounts]") == webgl
    screenshot(page, "map_canvas")


def test_splat_and_point_dots_are_drawn_in_the_same_places(page, server):
    """Software WebGL stamps the dots from JavaScript (splat.js); a GPU interpolates them in the vertex shader. At
    each visible dot's position (from the page's own positionOf) both show the same colour."""
    import io

    from PIL import Image

    def shot(mode):
        open_map(page, server, f"?date={DAY}&dots={mode}")
        assert page.evaluate("cscflow.dots") == mode
        dots = page.evaluate("cscflow.dotPositions(400)")
        img = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
        return dots, img

    dots, points = shot("points")
    dots_splat, splat = shot("splat")
    assert dots == dots_splat and len(dots) >= 10, len(dots)
    background = (0x0F, 0x18, 0x22)
    same = drawn = 0
    for d in dots:
        x, y = round(d["x"]), round(d["y"])
        a, b = points.getpixel((x, y)), splat.getpixel((x, y))
        drawn += max(abs(u - v) for u, v in zip(a, background, strict=True)) > 24
        same += max(abs(u - v) for u, v in zip(a, b, strict=True)) <= 8
    assert drawn >= 0.8 * len(dots), (drawn, len(dots))       # the points page shows dots there
    assert same >= 0.9 * len(dots), (same, len(dots))
    assert page.evaluate("cscflow.error") is None


def test_clicking_a_dot_shows_that_childs_journey(page, server):
    open_map(page, server, f"?date={DAY}")
    point = page.evaluate("cscflow.firstDot()")
    assert point, "no dot on screen"
    page.mouse.click(point["x"], point["y"])
    wait_for(page, "cscflow.child && cscflow.child.child_id", timeout=60)
    child = page.evaluate("cscflow.child")
    st = server.app.state.cscflow
    tracks, _ = st.cached(("tracks", "travel", ()), lambda: None)
    assert child["child_id"] == tracks.child_ids[child["index"]]
    assert page.locator('[data-field="child_id"]').inner_text() == child["child_id"]


def test_analytics_page_charts_a_flow_table(page, server):
    open_map(page, server)
    page.click('nav .tab[data-view="analytics-view"]')
    wait_for(page, "cscflow.analytics && cscflow.analytics.charted", timeout=60)
    rows = page.locator("#flow-table tbody tr").count()
    api = page.request.get(f"{server.url}/api/flow/conversion").json()
    assert rows == len(api["rows"])
    href = page.get_attribute("#csv", "href")
    assert href.startswith("/api/flow/conversion?") and "format=csv" in href
    # plotly.min.js injects maplibre's stylesheet as a <style> element when it loads; the CSP blocks it
    # (map traces are not used). Nothing else may break the policy.
    assert [v for v in page.csp_violations if not v[1].endswith("/vendor/plotly.min.js")] == []
    assert [e for e in page.console_errors if "inline style" not in e] == []
    assert all(u.startswith(server.url + "/") for u in page.requests_seen)
    screenshot(page, "analytics")


@pytest.mark.parametrize("query", ["", "&res=0.5", "&renderer=canvas", "&dots=points", "&dots=splat"])
def test_map_is_painted_in_the_one_opaque_canvas(page, server, query):
    """The tube map is painted into the dots' canvas (the SVG beneath only takes the pointer events): station
    markers show white at their SVG positions, empty stage shows the page background, also with trails on."""
    import io

    from PIL import Image

    open_map(page, server, f"?date={DAY}{query}")
    assert page.evaluate("getComputedStyle(document.getElementById('map-over')).display") == "none"
    centres = page.eval_on_selector_all(
        "#map-under .station:not(.exit) circle:first-child",
        "els => els.map(e => { const b = e.getBoundingClientRect(); return [b.x + b.width / 2, b.y + b.height / 2]; })",
    )
    page.evaluate("document.getElementById('map-under').style.opacity = '0'")   # what is seen: the canvas alone
    stage = page.eval_on_selector("#stage", "e => { const b = e.getBoundingClientRect(); return [b.x, b.y]; }")

    def pixels():
        img = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
        return img, img.getpixel((int(stage[0]) + 4, int(stage[1]) + 4))

    img, corner = pixels()
    assert all(abs(a - b) <= 3 for a, b in zip(corner, (0x0F, 0x18, 0x22), strict=True)), corner
    white = sum(min(img.getpixel((round(x), round(y)))) >= 200 for x, y in centres)
    assert white >= 0.8 * len(centres), (white, len(centres))
    page.check("#trails")
    page.evaluate("cscflow.setSpeed(30); cscflow.play()")
    time.sleep(0.6)
    page.evaluate("cscflow.pause()")
    img, corner = pixels()
    assert page.evaluate("cscflow.error") is None
    assert all(abs(a - b) <= 3 for a, b in zip(corner, (0x0F, 0x18, 0x22), strict=True)), corner
    white = sum(min(img.getpixel((round(x), round(y)))) >= 200 for x, y in centres)
    assert white >= 0.8 * len(centres), (white, len(centres))


@pytest.mark.parametrize("mode", ["points", "splat"])
def test_comparing_two_periods_draws_both_colours(page, server, mode):
    """Compare with another period: the shown date's dots in cohort A's colour and a year later's in B's, in
    both dot paths (splat stamps both into one image)."""
    import io

    from PIL import Image

    open_map(page, server, f"?date={DAY}&dots={mode}")
    page.click("summary:has-text('Compare')")
    page.select_option("#compare", "period")
    wait_for(page, "cscflow.ready && !cscflow.error")
    time.sleep(0.5)
    page.evaluate("document.getElementById('map-under').style.opacity = '0'")
    box = page.eval_on_selector("#stage", "e => { const b = e.getBoundingClientRect(); return [b.x, b.y, b.width, b.height]; }")
    clip = dict(zip(("x", "y", "width", "height"), box, strict=True))
    img = Image.open(io.BytesIO(page.screenshot(clip=clip))).convert("RGB")
    px = list(img.getdata())

    def near(hex_):
        c = tuple(int(hex_[i:i + 2], 16) for i in (1, 3, 5))
        return sum(max(abs(a - b) for a, b in zip(p, c, strict=True)) <= 10 for p in px)

    a, b = near("#56b4e9"), near("#e69f00")   # CATEGORIES[COHORT_A], CATEGORIES[COHORT_B] (palette.js)
    assert a >= 32 and b >= 32, (a, b)       # at least two 4x4 dots of each
    assert page.evaluate("cscflow.error") is None
    screenshot(page, f"compare_period_{mode}")
