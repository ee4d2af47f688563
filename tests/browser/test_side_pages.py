"""The Linkage and Timescales pages open cleanly on a workspace as it is: no failed request, no console
error, no Content-Security-Policy violation, no serious axe-core violation, and the state explained in words
(an unlinked workspace says how to link it)."""

from __future__ import annotations

import pytest
from browser_kit import wait_for
from test_accessibility import serious

pytestmark = pytest.mark.browser


def _failed_responses(page) -> list[str]:
    failed: list[str] = []
    page.on("response", lambda r: r.status >= 400 and failed.append(f"{r.status} {r.url}"))
    return failed


def test_linkage_page_on_an_unlinked_workspace(page, server):
    failed = _failed_responses(page)
    page.goto(f"{server.url}/linkage")
    wait_for(page, "document.getElementById('status').textContent !== 'Loading…'")
    assert "not been linked yet" in page.inner_text("#summary")
    assert "cscflow link" in page.inner_text("#summary")
    assert failed == [] and page.console_errors == [] and page.csp_violations == []
    assert serious(page) == []


def test_timescales_page_draws_without_errors(page, server):
    failed = _failed_responses(page)
    page.goto(f"{server.url}/timescales")
    wait_for(page, "document.querySelector('.js-plotly-plot') !== null", timeout=60)
    assert failed == [] and page.console_errors == [] and page.csp_violations == []
    assert serious(page) == []


def test_statistics_tables_show_numbers_as_a_reader_wants_them(page, server):
    """Counts with thousands separators, years and codes as they are, other figures to two decimals, small ones to
    three significant digits (the summary of a funnel plot printed 97802 and 24.0179)."""
    page.goto(f"{server.url}/linkage")
    got = page.evaluate("""import('/static/js/stats.js').then((m) => [m.cell('denominator', 97802), m.cell('year', 2025),
        m.cell('z', 24.0179), m.cell('p', 0.000123456), m.cell('value', 1416.7), m.cell('label', '341 Liverpool'),
        m.cell('rate', null), m.cell('flag', false)])""")
    assert got == ["97,802", "2025", "24.02", "0.000123", "1,417", "341 Liverpool", "", "false"]


@pytest.mark.parametrize("path", ["/timescales", "/linkage", "/forecast"])
def test_every_page_has_the_same_six_tabs_and_they_open_their_view(page, server, path):
    """The side pages' navigation lacked Analytics and Statistics (tabs of the map page): now the six tabs of the map
    page, and a link to Analytics or Statistics opens that view."""
    page.goto(f"{server.url}{path}")
    tabs = page.eval_on_selector_all("header nav .tab", "ts => ts.map(t => t.textContent.trim())")
    assert tabs == ["Map", "Analytics", "Statistics", "Timescales", "Linkage", "Forecast"]
    with page.expect_navigation(wait_until="domcontentloaded"):  # polled before the new page was parsed, it read null
        page.click("header nav a.tab:text-is('Statistics')")
    wait_for(page, "(document.getElementById('stats-view') || {hidden: true}).hidden === false", timeout=60)
    assert page.evaluate("document.getElementById('map-view').hidden")
    page.goto(f"{server.url}/?view=analytics")
    wait_for(page, "window.cscflow && cscflow.analytics && cscflow.analytics.charted", timeout=60)
    assert not page.evaluate("document.getElementById('analytics-view').hidden")
