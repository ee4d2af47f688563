"""Key practices in Debian's Chromium, on the small county with late assessments: the map's overlay colours exactly
the dots of children whose clock ``cscflow.practices.evaluate`` says is overdue at the map's date (WebGL splat and
points, and the canvas renderer; pixels of the overlay's colour appear on screen), and a breach is marked reviewed on
the Timescales page and read back from the workspace. No console error, no CSP violation, axe-core clean."""

from __future__ import annotations

import io

import overdue_county
import pytest
from browser_kit import Server, wait_for
from test_accessibility import serious

pytestmark = pytest.mark.browser
DAY = "2022-06-01"
VIOLET = (0xB4, 0x69, 0xFF)  # palette.js OVERDUE


@pytest.fixture(scope="module")
def late_server(tmp_path_factory):
    from cscflow.web import create_app

    app = create_app(overdue_county.build(tmp_path_factory.mktemp("late") / "ws"))
    with Server(app) as srv:
        srv.app = app
        yield srv
    app.state.cscflow.close()


def overdue_dots(server, day, rule=None) -> set[int]:
    """Child indices of the map's tracks whose child has a clock overdue at ``day`` (of ``rule``), by evaluate()."""
    from cscflow.journeys import tracks
    from cscflow.practices import evaluate

    st = server.app.state.cscflow
    with st.lock:
        clocks = evaluate(st.ws, as_of=day)
        ids = [str(c) for c in tracks(st.ws, st.pmap).child_ids]
    late = clocks[(clocks["status"] == "overdue") & ((clocks["rule"] == rule) if rule else True)]
    kids = set(late["child_id"].astype(str))
    return {i for i, c in enumerate(ids) if c in kids}


def violet_pixels(page) -> int:
    from PIL import Image

    shot = Image.open(io.BytesIO(page.locator("#stage").screenshot())).convert("RGB")
    return sum(1 for px in shot.get_flattened_data() if all(abs(a - b) <= 40 for a, b in zip(px, VIOLET, strict=True)))


def colours(page) -> dict[int, set[float]]:
    out: dict[int, set[float]] = {}
    for d in page.evaluate("cscflow.dotPositions(1e9)"):
        out.setdefault(int(d["child"]), set()).add(d["colour"])
    return out


@pytest.mark.parametrize("query", ["", "&dots=points", "&renderer=canvas"])
def test_the_overlay_colours_the_overdue_dots(page, late_server, query):
    want = overdue_dots(late_server, DAY)
    assert len(want) >= 3, "the late assessments are running on this day"
    page.goto(f"{late_server.url}/?date={DAY}{query}")
    wait_for(page, "window.cscflow && window.cscflow.ready")
    before = colours(page)
    assert violet_pixels(page) == 0
    page.focus("#overdue")
    page.keyboard.press("Space")  # a labelled checkbox: reached and switched from the keyboard
    wait_for(page, f"cscflow.overdue.asOf === '{DAY}' && !cscflow.overdue.busy")
    page.wait_for_timeout(300)  # the next frames
    after = colours(page)
    shown = set(after)
    assert shown == set(before) and want & shown, "some overdue children have a dot on the map that day"
    assert {c for c, k in after.items() if k == {1}} == want & shown  # exactly the overdue children's dots
    assert all(k == {0} for c, k in after.items() if c not in want)
    assert any(before[c] != after[c] for c in want & shown)  # they changed colour
    assert violet_pixels(page) > 0  # and the renderer drew the colour
    legend = page.inner_text("#legend")
    assert "overdue" in legend and DAY in legend
    assert page.evaluate("cscflow.overdue.children") == len(want)
    assert page.console_errors == [] and page.csp_violations == []
    if not query:
        page.evaluate("document.querySelectorAll('#side details').forEach((d) => { d.open = true; })")
        assert serious(page) == []


def test_the_overlay_follows_the_rule_and_the_date(page, late_server):
    page.goto(f"{late_server.url}/?date={DAY}")
    wait_for(page, "window.cscflow && window.cscflow.ready")
    page.check("#overdue")
    wait_for(page, f"cscflow.overdue.asOf === '{DAY}' && !cscflow.overdue.busy")
    page.select_option("#overdue-rule", "icpc-15wd")  # no ICPC is late in this county
    wait_for(page, "cscflow.overdue.rule === 'icpc-15wd'")
    assert overdue_dots(late_server, DAY, "icpc-15wd") == set()
    assert all(k == {0} for k in colours(page).values())
    page.select_option("#overdue-rule", "assessment-45wd")
    wait_for(page, "cscflow.dotPositions(1e9).some((d) => d.colour === 1)")
    later = "2023-02-02"
    page.evaluate(f"cscflow.setDate('{later}')")
    wait_for(page, f"cscflow.overdue.asOf === '{later}' && !cscflow.overdue.busy")
    page.wait_for_timeout(300)
    got = {c for c, k in colours(page).items() if k == {1}}
    assert got and got <= overdue_dots(late_server, later, "assessment-45wd")
    # playing, the overlay draws days the map has reached (asked ahead, drawn when there); paused, the day shown
    page.evaluate("cscflow.setSpeed(60)")
    page.evaluate("cscflow.play()")
    seen = []
    for _ in range(8):
        page.wait_for_timeout(250)
        seen.append(page.evaluate("[cscflow.date, cscflow.overdue.asOf]"))
    page.evaluate("cscflow.pause()")
    assert all(drawn <= shown for shown, drawn in seen), seen
    assert seen[-1][0] > later
    wait_for(page, "cscflow.overdue.asOf === cscflow.date && !cscflow.overdue.busy")
    page.locator("details:has(#compare) > summary").click()
    page.select_option("#compare", "cohort")  # compared cohorts keep their own colours
    wait_for(page, "cscflow.ready && !cscflow.overdue.active")
    assert page.is_disabled("#overdue") and "overdue" not in page.inner_text("#legend")
    assert page.console_errors == [] and page.csp_violations == []


def test_a_breach_is_marked_reviewed_on_the_timescales_page(page, late_server):
    from cscflow.practices import reviews as rev

    note = "<img src=x onerror=alert(1)> chair away"
    page.goto(f"{late_server.url}/timescales?rule=assessment-45wd")
    wait_for(page, "document.getElementById('breaches').dataset.rows > 0 && "
                   "document.getElementById('status').textContent === ''", timeout=60)
    assert "Breaches:" in page.inner_text("#review-counts")
    page.locator("#breaches button.review").first.click()
    assert page.evaluate("document.activeElement.id") == "review-cause"
    what = page.inner_text("#review-what")
    page.select_option("#review-cause", "scheduling")
    page.fill("#review-note", note)
    page.fill("#review-action", "Book two conference chairs")
    page.click("#review-form button[type=submit]")
    wait_for(page, "document.getElementById('review-status').dataset.saved === '1'", timeout=60)
    assert page.inner_text("#review-status").startswith("Reviewed:")
    st = late_server.app.state.cscflow
    stored = rev.load(st.ws)
    assert stored[["rule", "cause", "note"]].values.tolist() == [["assessment-45wd", "scheduling", note]]
    assert stored["child_id"].iloc[0] in what and stored["start"].iloc[0] in what
    page.select_option("#breach-show", "reviewed")
    wait_for(page, "document.getElementById('breaches').dataset.rows === '1'", timeout=30)
    assert note in page.inner_text("#breaches") and page.locator("#breaches img").count() == 0  # text, not HTML
    assert page.console_errors == [] and page.csp_violations == []
    assert serious(page) == []


def test_long_lists_scroll_in_their_own_boxes(page, late_server):
    """The county's thousands of breaches made the page 46,000 px tall: the due-soon list, the breaches and the
    reviews table scroll in boxes of their own (reachable from the keyboard), with their headers kept in view."""
    page.goto(f"{late_server.url}/timescales?rule=assessment-45wd&show=all")
    page.select_option("#breach-show", "all")
    wait_for(page, "document.getElementById('breaches').dataset.rows > 0 && "
                   "document.getElementById('status').textContent === ''", timeout=60)
    for box in ("due", "breaches", "reviews"):
        got = page.evaluate(f"""() => {{ const b = document.getElementById('{box}'), s = getComputedStyle(b);
            const th = b.querySelector('thead th');
            return [s.overflowY, b.tabIndex, b.getAttribute('role'), th ? getComputedStyle(th).position : 'sticky',
                    b.getBoundingClientRect().height <= 28 * 16 + 4]; }}""")
        assert got == ["auto", 0, "region", "sticky", True], (box, got)
    rows = int(page.evaluate("document.getElementById('breaches').dataset.rows"))
    tall = page.evaluate("document.getElementById('breaches').scrollHeight > document.getElementById('breaches').clientHeight")
    assert tall == (rows > 12)
    assert page.console_errors == [] and page.csp_violations == []
