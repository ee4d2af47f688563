"""The map read as a picture: dots on the drawn lines, a full first frame, labels clear of each other, the keyboard,
reduced motion, the counts table and the legend (issue 13), on every renderer."""

from __future__ import annotations

import datetime as dt
import math
import statistics
import time

import pytest
from browser_kit import screenshot, wait_for

pytestmark = pytest.mark.browser
RENDERERS = ["&dots=splat", "&dots=points", "&renderer=canvas"]


def open_map(page, server, query=""):
    page.goto(f"{server.url}/{query}")
    wait_for(page, "window.cscflow && window.cscflow.ready")


def go_to(page, day: str) -> None:
    page.evaluate(f"cscflow.setDate('{day}')")
    wait_for(page, f"cscflow.date === '{day}'")


def dates_over_the_span(page, n: int) -> list[str]:
    first, last = (dt.date.fromisoformat(d) for d in page.evaluate("cscflow.span"))
    return [(first + (last - first) * (k + 0.5) / n).isoformat() for k in range(n)]


def to_segment(px: float, py: float, a: list[float], b: list[float]) -> float:
    """Distance from a point to the segment a-b (a naive reference, in page px)."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    length2 = dx * dx + dy * dy
    f = 0.0 if length2 == 0 else max(0.0, min(1.0, ((px - a[0]) * dx + (py - a[1]) * dy) / length2))
    return math.hypot(px - a[0] - f * dx, py - a[1] - f * dy)


def off_the_lines(dots: list[dict], geometry: dict) -> list[dict]:
    """Moving dots farther than 4 px from every drawn line and 14 px from every station."""
    segments = [(p[i], p[i + 1]) for line in geometry["lines"] for p in [line["points"]] for i in range(len(p) - 1)]
    out = []
    for d in dots:
        if not d["moving"]:
            continue
        near_line = min(to_segment(d["x"], d["y"], a, b) for a, b in segments)
        near_station = min(math.hypot(d["x"] - s["x"], d["y"] - s["y"]) for s in geometry["stations"])
        if near_line > 4 and near_station > 14:
            out.append({**d, "line": round(near_line, 1), "station": round(near_station, 1)})
    return out


@pytest.mark.parametrize("query", RENDERERS)
def test_every_moving_dot_is_on_a_drawn_line(page, server, query):
    """At several dates, in both conventions: each moving dot within 4 px of a drawn line or 14 px of a station; the
    dots are those the renderer draws (the splat and point paths are compared pixel by pixel in test_map.py)."""
    open_map(page, server, f"?date=2022-01-01{query}")
    geometry = page.evaluate("cscflow.geometry()")
    assert geometry["lines"] and len(geometry["stations"]) == len(server.app.state.cscflow.pmap.stations)
    assert any(line["added"] for line in geometry["lines"]), "the small county has moves its map lacks"
    moving = 0
    for convention in ["travel", "queue"]:
        if convention == "queue":
            page.select_option("#convention", "queue")
            wait_for(page, "cscflow.ready")
        for day in dates_over_the_span(page, 6):
            go_to(page, day)
            dots = page.evaluate("cscflow.dotPositions(100000)")
            moving += sum(d["moving"] for d in dots)
            assert off_the_lines(dots, geometry) == [], (convention, day)
    assert moving >= 30, moving              # the check saw dots in motion, not only waiting ones
    assert page.evaluate("cscflow.error") is None


def test_hiding_the_added_routes_keeps_dots_on_the_lines_left(page, server):
    open_map(page, server, "?date=2022-06-01")
    page.uncheck("#added")
    wait_for(page, "cscflow.geometry().lines.every(l => !l.added)")
    geometry = page.evaluate("cscflow.geometry()")
    for day in dates_over_the_span(page, 5):
        go_to(page, day)
        assert off_the_lines(page.evaluate("cscflow.dotPositions(100000)"), geometry) == [], day


@pytest.mark.parametrize("query", RENDERERS)
def test_waiting_children_are_a_few_dots_in_a_ring_or_a_shaded_ring(page, server, query):
    """Waiting dots keep clear of the station's marker (radius 9 px) and sit in their station's ring, which holds
    exactly the children the page says wait there; a station with more than `few` waiting (100; 6 here, the small
    county having at most about 15 waiting at a station) draws no dot of them (its ring is shaded instead), no ring is wider than 26 px nor meets another station's ring at its widest, and none
    grows with fewer children."""
    open_map(page, server, f"?date=2022-09-01&play=0&few=6{query}")
    shaded = most = 0
    for convention, day in [("travel", "2022-09-01"), ("travel", dates_over_the_span(page, 3)[1]),
                            ("queue", "2022-09-01"), ("queue", dates_over_the_span(page, 3)[2])]:
        if page.evaluate("document.querySelector('#convention').value") != convention:
            page.select_option("#convention", convention)
            wait_for(page, "cscflow.ready")
        go_to(page, day)
        geometry = page.evaluate("cscflow.geometry()")
        rings = geometry["rings"]
        waiting = [d for d in page.evaluate("cscflow.dotPositions(1000000)") if not d["moving"]]
        per: dict[str, int] = {}
        for d in waiting:
            dist, ring = min((math.hypot(d["x"] - g["x"], d["y"] - g["y"]), g["id"]) for g in rings)
            g = next(g for g in rings if g["id"] == ring)
            assert g["inner"] - 1 <= dist <= g["outer"] + 3 and dist >= 12, (day, d, g)
            per[ring] = per.get(ring, 0) + 1
        for g in rings:
            assert g["outer"] <= g["cap"] <= 26, g
            assert per.get(g["id"], 0) == (0 if g["dense"] else g["waiting"]), (day, g, per.get(g["id"]))
            assert g["dense"] == (g["waiting"] > 6), g
            shaded += g["dense"]
            most = max(most, g["waiting"])
        for i, a in enumerate(rings):
            for b in rings[i + 1:]:
                assert math.hypot(a["x"] - b["x"], a["y"] - b["y"]) >= a["cap"] + b["cap"], (a, b)
        by_count = sorted((g["waiting"], g["outer"]) for g in rings if g["outer"] < g["cap"])
        assert all(r0 <= r1 + 1e-9 for (_, r0), (_, r1) in zip(by_count, by_count[1:], strict=False)), by_count
    assert shaded, f"some station of the small county has more than 100 waiting on one of the dates (most: {most})"


def test_the_first_frame_is_full(page, server):
    """Opened without a date, the first frame shows at least half the median number of dots over the span; the
    slider starts there, and earlier history stays reachable."""
    open_map(page, server, "?play=0")
    first = page.evaluate("[cscflow.date, cscflow.dotsDrawn, cscflow.window, cscflow.span]")
    assert first[0] == first[2][0] and first[2][1] == first[3][1]
    assert page.get_attribute("#time", "min") == str(
        (dt.date.fromisoformat(first[2][0]) - dt.date.fromisoformat(first[3][0])).days)
    counts = []
    for day in dates_over_the_span(page, 15):
        go_to(page, day)
        counts.append(page.evaluate("cscflow.dotsDrawn"))
    assert first[1] >= 0.5 * statistics.median(counts), (first, counts)
    go_to(page, first[3][0])                 # the first record: the slider reaches back with it
    assert page.get_attribute("#time", "min") == "0" and page.is_checked("#history")


def test_no_two_labels_overlap_nor_meet_a_ring_and_all_are_on_the_page(page, server):
    open_map(page, server, "?date=2022-06-01")
    labels = page.evaluate("cscflow.geometry().labels")
    stage = page.eval_on_selector("#stage", "e => { const b = e.getBoundingClientRect(); return [b.x, b.y, b.right, b.bottom]; }")
    kinds = {label["kind"] for label in labels}
    assert {"station", "zone", "count"} <= kinds
    assert sum(label["kind"] == "station" for label in labels) == len(server.app.state.cscflow.pmap.stations)
    rings = page.evaluate("cscflow.geometry().rings")
    for i, a in enumerate(labels):
        x0, y0, x1, y1 = a["box"]
        assert stage[0] <= x0 and x1 <= stage[2] and stage[1] <= y0 and y1 <= stage[3], a
        for g in rings:                  # no label, count or zone title over a waiting ring at its widest
            near_x, near_y = max(x0, min(g["x"], x1)), max(y0, min(g["y"], y1))
            assert math.hypot(g["x"] - near_x, g["y"] - near_y) >= g["cap"], (a, g)
        for b in labels[i + 1:]:
            u0, v0, u1, v1 = b["box"]
            assert not (x0 < u1 and u0 < x1 and y0 < v1 and v0 < y1), (a, b)
    screenshot(page, "map_labels")


def test_keyboard_plays_pauses_and_scrubs(page, server):
    open_map(page, server, "?date=2022-06-01")
    page.locator("#stage").click(position={"x": 5, "y": 5})
    page.keyboard.press("ArrowRight")
    wait_for(page, "cscflow.date === '2022-06-02'")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    wait_for(page, "cscflow.date === '2022-05-31'")
    page.keyboard.press("Shift+ArrowRight")
    wait_for(page, "cscflow.date === '2022-06-30'")
    page.keyboard.press("Shift+ArrowLeft")
    page.keyboard.press("Shift+ArrowLeft")
    wait_for(page, "cscflow.date === '2022-04-30'")
    page.keyboard.press("Space")
    assert page.evaluate("cscflow.playing") is True
    time.sleep(0.5)
    page.keyboard.press("Space")
    assert page.evaluate("cscflow.playing") is False
    assert page.evaluate("cscflow.date") > "2022-04-30"
    assert page.get_attribute("#play", "aria-pressed") == "false"


@pytest.mark.parametrize("motion", ["reduce", "no-preference"])
def test_reduced_motion_starts_paused(browser, server, motion):
    context = browser.new_context(viewport={"width": 1400, "height": 860}, reduced_motion=motion)
    page = context.new_page()
    try:
        open_map(page, server)
        time.sleep(0.3)
        assert page.evaluate("cscflow.playing") is (motion == "no-preference")
    finally:
        context.close()


def test_counts_table_dates_and_legend_read_in_english(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 860}, locale="en-GB")
    page = context.new_page()
    try:
        open_map(page, server, "?date=2022-06-01")
        assert page.locator("#date").inner_text() == "1 June 2022"
        counts = page.evaluate("cscflow.stationCounts")
        rows = page.locator("#counts-table tbody tr")
        labels = {s["label"]: s["id"] for s in server.app.state.cscflow.pmap.stations}
        table = {}
        for i in range(rows.count()):
            name, here, _ = (c.text_content() for c in rows.nth(i).locator("th, td").all())
            if here != "0":
                table[labels[name]] = int(here.replace(",", ""))
        assert table == counts
        assert "1 June 2022" in page.locator("#counts-caption").text_content()
        key = page.locator("#key").inner_text()
        assert "arrived in the 7 days" in key and "ring" in key and "added from the data" in key
    finally:
        context.close()


def test_conversion_is_a_from_to_matrix_of_the_apis_rates(page, server):
    """The Analytics page's first chart: a heatmap, one row per station left and one column per next station, each
    cell the API's rate (in %), in place of a bar per pair."""
    open_map(page, server, "?date=2022-06-01")
    page.click('nav .tab[data-view="analytics-view"]')
    wait_for(page, "cscflow.analytics && cscflow.analytics.charted", timeout=60)
    trace = page.evaluate("(() => { const d = document.getElementById('chart').data[0]; "
                          "return {type: d.type, x: d.x, y: d.y, z: d.z}; })()")
    api = page.request.get(f"{server.url}/api/flow/conversion").json()["rows"]
    assert trace["type"] == "heatmap"
    assert set(trace["y"]) == {r["source"] for r in api} and set(trace["x"]) == {r["target"] for r in api}
    for r in api:
        cell = trace["z"][trace["y"].index(r["source"])][trace["x"].index(r["target"])]
        assert cell == (None if r["rate"] is None else pytest.approx(100 * r["rate"])), r
    # readable: every station left has its name on the map on the axis (not its id: "CP plan", not "cp_plan"),
    # and a row of at least 24 px (the box once squeezed 20 rows into 170 px, losing every other label)
    names = {s["id"]: s["label"] for s in page.request.get(f"{server.url}/api/map").json()["stations"]}
    ticks = page.evaluate("[...document.querySelectorAll('#chart .yaxislayer-above .ytick text')].map(t => t.textContent)")
    assert sorted(ticks) == sorted(names.get(y, y) for y in trace["y"])
    assert "CP plan" in ticks and "cp_plan" not in ticks
    xticks = page.evaluate("[...document.querySelectorAll('#chart .xaxislayer-above .xtick text')].map(t => t.textContent)")
    assert sorted(xticks) == sorted(names.get(x, x) for x in trace["x"])
    plot_h = page.evaluate("document.querySelector('#chart .nsewdrag').getBoundingClientRect().height")
    assert plot_h / len(trace["y"]) >= 24
    screenshot(page, "analytics_matrix")


def test_the_hooks_read_the_page_and_cannot_write_its_state(page, server):
    """window.cscflow is kept apart from the page's state: its values are read-only views (writing one changes
    neither the hook nor the page), actions go through the page's own functions."""
    open_map(page, server, "?date=2022-06-01")
    before = page.evaluate("[cscflow.date, cscflow.dotsDrawn, JSON.stringify(cscflow.stationCounts)]")
    page.evaluate("try { cscflow.date = '1999-01-01'; cscflow.dotsDrawn = -1; cscflow.stationCounts.contact = -5; }"
                  " catch (e) {}")
    assert page.evaluate("[cscflow.date, cscflow.dotsDrawn, JSON.stringify(cscflow.stationCounts)]") == before
    assert page.locator("#date").get_attribute("data-iso") == "2022-06-01"
    go_to(page, "2022-07-01")
    assert page.evaluate("cscflow.span")[0] <= "2022-07-01" and page.evaluate("cscflow.playing") is False


def test_the_caseload_strip_and_the_markers_take_you_to_their_day(page, server):
    """Under the slider, the caseload over the window (a click there goes to that day); an event marker (the
    workspace's Ofsted inspection) goes to its date."""
    open_map(page, server, "?date=2022-06-01")
    lo, hi = (int(page.get_attribute("#time", a)) for a in ("min", "max"))
    box = page.locator("#strip").bounding_box()
    assert box["height"] >= 20 and box["width"] > 200
    page.mouse.click(box["x"] + box["width"] * 0.25, box["y"] + box["height"] / 2)
    first = dt.date.fromisoformat(page.evaluate("cscflow.span")[0])
    wanted = first + dt.timedelta(days=round(lo + 0.25 * (hi - lo)))
    wait_for(page, f"Math.abs(Date.parse(cscflow.date) - Date.parse('{wanted.isoformat()}')) <= 2 * 86400000")
    assert "Children on the map" in page.locator("#strip-label").text_content()
    page.click('#markers button[data-date="2022-10-03"]')
    wait_for(page, "cscflow.date === '2022-10-03'")


@pytest.fixture(scope="module")
def auto_server(small_workspace):
    """The same workspace on the 'auto' map (one station per stage, no lines of its own)."""
    from browser_kit import Server

    from cscflow.web import create_app

    app = create_app(small_workspace, "auto")
    with Server(app) as srv:
        srv.app = app
        yield srv
    app.state.cscflow.close()


def test_the_auto_map_draws_its_lines_from_the_data(page, auto_server):
    """A map without lines: every line drawn is a route added from the data, and every moving dot is on one."""
    open_map(page, auto_server, "?date=2022-01-01")
    geometry = page.evaluate("cscflow.geometry()")
    assert geometry["lines"] and all(line["added"] for line in geometry["lines"])
    moving = 0
    for day in dates_over_the_span(page, 5):
        go_to(page, day)
        dots = page.evaluate("cscflow.dotPositions(100000)")
        moving += sum(d["moving"] for d in dots)
        assert off_the_lines(dots, geometry) == [], day
    assert moving >= 10, moving
