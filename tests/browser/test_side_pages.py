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
