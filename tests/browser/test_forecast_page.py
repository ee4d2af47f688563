"""The Forecast page in Chromium: it loads, draws the fan chart, takes a what-if and example costs, with no
console errors, no Content-Security-Policy violations and no serious axe-core violations."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_kit import screenshot, wait_for

pytestmark = pytest.mark.browser
AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def serious_violations(page) -> list[dict]:
    """axe-core's serious and critical violations (WCAG 2.2 A and AA) on the page as it is now."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run ./run test (it installs tests/browser/package.json with npm)")
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    result = page.evaluate("async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}}))"
                           ".violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
                           " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))", TAGS)
    return [v for v in result if v["impact"] in ("serious", "critical")]


def test_the_forecast_page(page, server):
    page.goto(f"{server.url}/forecast")
    wait_for(page, "window.cscflow && window.cscflow.ready && window.cscflow.forecast.charted", timeout=60)
    assert page.locator("#fan .main-svg").count() > 0
    assert "100 a scenario" in page.locator("#speed").text_content()
    assert serious_violations(page) == []
    # a what-if at the selected junction, and the example costs
    seq = page.evaluate("window.cscflow.forecast.seq")
    page.locator("#change").fill("-50")
    page.locator("#change").dispatch_event("change")
    wait_for(page, f"window.cscflow.forecast.seq > {seq} && window.cscflow.forecast.rows > 12", timeout=60)
    page.select_option("#costs", "example")
    wait_for(page, "window.cscflow.forecast.spend", timeout=60)
    assert "not published figures" in page.locator("#spend-label").text_content()
    assert page.locator("#spend .main-svg").count() > 0
    page.locator("#spend-section details, main details").evaluate_all("ds => ds.forEach((d) => { d.open = true; })")
    assert serious_violations(page) == []
    screenshot(page, "forecast-page")
    assert page.console_errors == [], page.csp_violations
    assert page.csp_violations == []
    assert all(u.startswith(server.url) for u in page.requests_seen)
