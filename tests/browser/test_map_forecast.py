"""The map playing the forecast period in Chromium: real dots up to the origin, then only simulated ones (hollow
violet rings) under the banner, the slider extended and hatched; the Forecast page's "Play on the map" link."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from browser_kit import screenshot, wait_for
from test_forecast_page import serious_violations

pytestmark = pytest.mark.browser
VIOLET = (180, 105, 255)


def _origin(page, server) -> pd.Timestamp:
    return pd.Timestamp(page.request.get(f"{server.url}/api/forecast/options").json()["origin"])


def _violet_pixels(page) -> int:
    """Pixels of the simulated colour on the map, below the banner (whose border is that colour too)."""
    from PIL import Image

    box = page.locator("#stage").bounding_box()
    top = page.locator("#sim-banner").bounding_box() if page.locator("#sim-banner").is_visible() else None
    y0 = top["y"] + top["height"] + 4 if top else box["y"]
    clip = {"x": box["x"], "y": y0, "width": box["width"], "height": box["y"] + box["height"] - y0}
    img = np.asarray(Image.open(io.BytesIO(page.screenshot(clip=clip))).convert("RGB"), dtype=np.int16)
    return int((np.abs(img - np.asarray(VIOLET)).sum(-1) < 60).sum())


def _open(page, server, day: pd.Timestamp, extra: str = "") -> dict:
    page.goto(f"{server.url}/?forecast=1&horizon=12&date={day.date()}{extra}")
    wait_for(page, "window.cscflow && cscflow.ready && cscflow.simulated.loaded", timeout=90)
    page.evaluate("cscflow.pause()")
    page.wait_for_timeout(300)
    return page.evaluate("cscflow.simulated")


def test_the_map_plays_the_forecast_with_simulated_dots(page, server):
    page.goto(f"{server.url}/?play=0")
    origin = _origin(page, server)
    after = origin + pd.Timedelta(days=45)
    sim = _open(page, server, after)
    assert sim["on"] and sim["origin"] == str(origin.date()) and sim["children"] > 0
    assert page.evaluate("cscflow.date") == str(after.date())
    # after the origin every dot drawn is simulated, and they are drawn
    assert sim["dotsDrawn"] > 0 and page.evaluate("cscflow.dotsDrawn") == sim["dotsDrawn"]
    banner = page.locator("#sim-banner")
    assert banner.is_visible()
    text = banner.text_content()
    assert f"Simulated: forecast from {origin:%d %B %Y}, one run of the fitted model, not real children" in text
    assert _violet_pixels(page) > 50
    # the slider runs on to the forecast's end, its forecast part marked
    assert page.evaluate("cscflow.span[1]") == sim["end"] > str(origin.date())
    assert "forecast" in page.locator("#time").get_attribute("class")
    # the downloads hold real children only: up to the origin
    assert f"end={origin.date()}" in page.locator("#download-report").get_attribute("href")
    assert f"start={origin.date()}" in page.locator("#download-video").get_attribute("href")
    screenshot(page, "map_forecast")
    assert serious_violations(page) == []
    # before the origin: real dots only, the banner still says what the later dots will be
    page.evaluate(f"cscflow.setDate('{(origin - pd.Timedelta(days=20)).date()}')")
    page.wait_for_timeout(300)
    before = page.evaluate("cscflow.simulated")
    assert before["dotsDrawn"] == 0 and page.evaluate("cscflow.dotsDrawn") > 0
    assert _violet_pixels(page) < 10
    # another run; then off: the slider ends at the data's end again
    page.locator("#sim-run").click()
    wait_for(page, "cscflow.simulated.run === 2 && cscflow.simulated.loaded", timeout=60)
    page.locator("#sim-on").uncheck()
    wait_for(page, "!cscflow.simulated.on", timeout=30)
    assert not banner.is_visible() and page.evaluate("cscflow.span[1]") < sim["end"]
    assert page.console_errors == [], page.console_errors
    assert page.csp_violations == []


def test_canvas_fallback_draws_simulated_rings_and_a_what_if(page, server):
    page.goto(f"{server.url}/?play=0")
    origin = _origin(page, server)
    sim = _open(page, server, origin + pd.Timedelta(days=30), "&renderer=canvas&arrivals=20")
    assert page.evaluate("cscflow.renderer") == "canvas2d"
    assert sim["whatIf"] == "arrivals +20%" and "what-if: arrivals +20%" in sim["banner"]
    assert sim["dotsDrawn"] > 0 and _violet_pixels(page) > 50
    assert page.console_errors == [], page.console_errors


def test_the_forecast_page_links_to_the_map(page, server):
    page.goto(f"{server.url}/forecast")
    wait_for(page, "window.cscflow && window.cscflow.ready && window.cscflow.forecast.charted", timeout=90)
    href = page.locator("#play-on-map").get_attribute("href")
    assert href.startswith("/?forecast=1&horizon=12") and "date=" in href
    page.locator("#play-on-map").click()
    wait_for(page, "window.cscflow && cscflow.ready && cscflow.simulated && cscflow.simulated.loaded", timeout=90)
    assert page.evaluate("cscflow.simulated.on")
    assert page.console_errors == [], page.console_errors
