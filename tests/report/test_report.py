"""`cscflow report`: one self-contained HTML file, every count disclosed, the suppression explained, a
reasonable size; and a headless-Chromium check that it draws with every network request blocked."""

from __future__ import annotations

import html
import json
import re

import pandas as pd
import pytest

from cscflow import Workspace

SMALL = {"1", "2", "3", "4"}


def count_cells(text: str) -> list[tuple[str, str, str]]:
    """(table, column, value) of every cell of a count column in the report's tables (thousands separators
    read away)."""
    out = []
    for m in re.finditer(r'<table data-name="([^"]+)" data-counts="([^"]*)">(.*?)</table>', text, re.S):
        counts = set(json.loads(m.group(2).replace("&quot;", '"')))
        for c, v in re.findall(r'<td[^>]*data-col="([^"]+)">([^<]*)</td>', m.group(3)):
            if c in counts:
                out.append((m.group(1), c, re.sub(r"(?<=\d),(?=\d{3}\b)", "", v)))
    return out


def test_report_is_self_contained_small_and_disclosed(report_file, tiny_ws):
    text = report_file.read_text(encoding="utf-8")
    size = report_file.stat().st_size
    assert size < 8_000_000, f"{size / 1e6:.1f} MB"
    assert text.count("Plotly.newPlot") == 1 and text.count("plotly.js v") <= 2  # plotly.js inlined once
    from cscflow.report.html import plotly_js

    page = text.replace(plotly_js(), "")  # plotly.js itself mentions web addresses in its strings
    assert len(page) < len(text) - 1_000_000
    assert not re.search(r'(src|href)="(https?:)?//', page) and "<link" not in page  # nothing fetched
    assert "How numbers were suppressed" in text and "counts of 1 to 4 are shown as &lt;5" in text
    for heading in ("Summary", "The map", "Flow through the service", "Statistics", "Statutory timescales"):
        assert f">{heading}</h2>" in text
    assert "has not been linked yet" in text  # no linkage in the tiny county: said so, not left out silently
    cells = count_cells(text)
    assert len(cells) > 100 and {t for t, _, _ in cells} >= {"stations", "conversion", "dfg", "caseload"}
    assert not [c for c in cells if c[2] in SMALL]
    assert any(v == "&lt;5" for _, _, v in cells)  # the tiny county has small counts, hidden
    # the stations table in the report equals `cscflow flow stations` (disclosed) on the same workspace
    from cscflow.disclosure import disclose
    from cscflow.journeys import flow
    from cscflow.journeys.maps import load_map
    from cscflow.journeys.windows import data_window

    with Workspace(tiny_ws, read_only=True) as ws:  # from the observation window's first day, as the CLI counts
        raw = flow.stations(ws, load_map("england", ws), start=data_window(ws)[1])
    want = disclose(raw, "stations").table
    got = [v for t, c, v in cells if t == "stations" and c == "entered"]
    assert len(got) >= len(want)  # the summary's headline table and the flow table
    assert got[-len(want):] == [str(v).replace("<", "&lt;") for v in want["entered"]]
    assert (raw["entered"].between(1, 4)).any()


def test_report_flow_tables_read_as_names_and_percentages(report_file, tiny_ws):
    """The report's conversion table names stations as the map does and gives shares as percentages, the same
    cells as `cscflow flow conversion` (ids and shares of 0-1 there, as in the CSV)."""
    from cscflow.disclosure import disclose
    from cscflow.journeys import flow
    from cscflow.journeys.maps import load_map
    from cscflow.journeys.windows import data_window

    text = report_file.read_text(encoding="utf-8")
    m = re.search(r'<table data-name="conversion"[^>]*>(.*?)</table>', text, re.S)
    rows = [dict(re.findall(r'<td[^>]*data-col="([^"]+)">([^<]*)</td>', r)) for r in re.findall(r"<tr>(.*?)</tr>",
                                                                                                   m.group(1), re.S)]
    rows = [{k: html.unescape(v) for k, v in r.items()} for r in rows if r]
    with Workspace(tiny_ws, read_only=True) as ws:
        pmap = load_map("england", ws)
        want = disclose(flow.conversion(ws, pmap, start=data_window(ws)[1]), "conversion").table
    names = {s["id"]: s["label"] for s in pmap.stations}
    assert "CP plan" in {r["source"] for r in rows} and "cp_plan" not in {r["source"] for r in rows}
    for got, (_, w) in zip(rows, want.iterrows(), strict=False):
        assert got["source"] == names.get(w["source"], w["source"]) and got["target"] == names.get(w["target"],
                                                                                                    w["target"])
        if isinstance(w["rate"], float) and not pd.isna(w["rate"]):
            pct = 100 * w["rate"]
            assert got["rate"] == ("<0.1%" if 0 < pct < 0.05 else f"{pct:.1f}%"), (got, w.to_dict())
        else:
            assert got["rate"] == "", (got, w.to_dict())


def test_report_map_stills_carry_the_disclosed_counts(report_file):
    text = report_file.read_text(encoding="utf-8")
    svgs = re.findall(r'<div class="mapsvg">(.*?)</div>', text, re.S)
    assert len(svgs) == 2
    for svg in svgs:
        labels = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
        numbers = [x.strip() for x in labels if re.fullmatch(r"\s*(&lt;5|\d[\d,]*)\s*", x)]
        assert numbers and not SMALL & set(numbers)


def test_report_sections_and_errors(tiny_ws, tmp_path):
    from click.testing import CliRunner

    from cscflow.cli import cli

    out = tmp_path / "r.html"
    r = CliRunner().invoke(cli, ["report", str(tiny_ws), "--sections", "summary,flow", "--from", "2016-04-01",
                                 "--to", "2017-03-31", "--where", "sex=F", "--out", str(out)])
    assert r.exit_code == 0, r.output
    text = out.read_text(encoding="utf-8")
    assert ">The map</h2>" not in text and "cohort sex=F" in text and "period 2016-04-01 to 2017-03-31" in text
    r = CliRunner().invoke(cli, ["report", str(tiny_ws), "--sections", "summary,nope", "--out", str(out)])
    assert r.exit_code == 1 and "no report section 'nope'" in r.output
    r = CliRunner().invoke(cli, ["report", str(tiny_ws), "--at", "2017-13-01", "--out", str(out)])
    assert r.exit_code == 1 and "--at '2017-13-01' is not a date" in r.output and "YYYY-MM-DD" in r.output


@pytest.mark.browser
def test_report_draws_offline_in_chromium(report_file):
    from playwright.sync_api import sync_playwright

    chromium = "/usr/bin/chromium"
    url = report_file.resolve().as_uri()
    blocked: list[str] = []

    def route(r):
        if r.request.url == url:
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    def drive() -> tuple:
        # Its own thread: the browser tests' session-wide Playwright runs an event loop in the main thread,
        # and a second sync Playwright cannot start inside it.
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page()
            page.route("**/*", route)
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(url)
            page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length > 0", timeout=30000)
            wanted = page.eval_on_selector_all("script.figure-data", "s => s.length")
            drawn = page.eval_on_selector_all(".chart.js-plotly-plot", "d => d.filter(x => x.querySelector('.main-svg')).length")
            sankeys = page.evaluate("""() => [...document.querySelectorAll('.js-plotly-plot')].flatMap(
                d => d.data.filter(t => t.type === 'sankey').flatMap(t => Array.from(t.link.value)))""")
            shown = page.evaluate("""() => [...document.querySelectorAll('table[data-counts]')].flatMap(t => {
                const counts = JSON.parse(t.dataset.counts);
                return [...t.querySelectorAll('td')].filter(td => counts.includes(td.dataset.col)).map(td => td.innerText.trim());
            })""")
            body = page.inner_text("body")
            browser.close()
            return errors, blocked, wanted, drawn, sankeys, shown, body

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        errors, blocked, wanted, drawn, sankeys, shown, body = pool.submit(drive).result()
    assert not errors, errors
    assert not blocked, blocked[:3]
    assert wanted >= 10 and drawn == wanted
    assert sankeys and min(sankeys) >= 5
    assert shown and not SMALL & set(shown)
    assert "How numbers were suppressed" in body
    assert pd.Series(shown).isin(["<5"]).any()
