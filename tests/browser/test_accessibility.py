"""WCAG 2.2 AA on every page, checked by axe-core (an npm dev dependency of these tests only: tests/browser/
package.json, installed by ./run test into tests/browser/node_modules; injected by the driver, never served)."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_kit import wait_for

pytestmark = pytest.mark.browser
AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def serious(page) -> list[dict]:
    """axe-core's serious and critical violations on the page as it is now (WCAG 2.2 A and AA rules)."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run ./run test (it installs tests/browser/package.json with npm)")
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    result = page.evaluate("async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}}))"
                           ".violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
                           " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))", TAGS)
    return [v for v in result if v["impact"] in ("serious", "critical")]


def test_the_map_page_has_no_serious_violation(page, server):
    page.goto(f"{server.url}/?date=2022-06-01")
    wait_for(page, "window.cscflow && window.cscflow.ready")
    page.evaluate("document.querySelectorAll('#side details').forEach((d) => { d.open = true; })")  # folded too
    assert serious(page) == []


def test_the_analytics_page_has_no_serious_violation(page, server):
    page.goto(f"{server.url}/?date=2022-06-01")
    wait_for(page, "window.cscflow && window.cscflow.ready")
    page.click('nav .tab[data-view="analytics-view"]')
    wait_for(page, "cscflow.analytics && cscflow.analytics.charted", timeout=60)
    page.click("#toggle-table")
    assert serious(page) == []


def test_the_statistics_page_has_no_serious_violation(page, server):
    page.goto(f"{server.url}/?date=2022-06-01")
    wait_for(page, "window.cscflow && window.cscflow.ready")
    wait_for(page, "!document.getElementById('stats-tab').hidden")
    page.click("#stats-tab")
    wait_for(page, "document.querySelector('#stats-status') && "
                   "!/Computing/.test(document.querySelector('#stats-status').textContent)", timeout=120)
    assert serious(page) == []
