"""Web map benchmark: county time to first frame and API timings (frame times: bench_web_frames).

- Dots: ``bench/bench_web_frames.py`` (run first by ``main``): the WebGL2 map beside a one-SVG-element-
  per-dot page in the same run.
- County: time to first frame of the page on the ``county`` preset (demo workspace built once under
  bench/out), and the API time of a cohort-filter change (tracks + stays, uncached), p50/p95.

- County API: p50/p95 of a cohort filter change (``/api/tracks`` + ``/api/counts`` with a filter) on the
  county preset with child attributes, in-process (``python bench/bench_web.py county-api`` runs only this).

Run: ``python -m bench web`` (headless Debian Chromium, SwiftShader software WebGL on this machine).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "web"))
sys.path.insert(0, str(ROOT / "tests" / "browser"))

def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def bench_county(browser) -> dict | None:
    from conftest import Server, wait_for
    from cscflow.web import create_app

    ws = ROOT / "bench" / "out" / "web_county" / "workspace"
    if not (ws / "cscflow.duckdb").exists():
        from cscflow.cli.demo import build_demo

        print("  building the county demo workspace (once)...", flush=True)
        build_demo(ROOT / "bench" / "out" / "web_county", echo=lambda m: None)
    app = create_app(ws)
    out: dict = {}
    from fastapi.testclient import TestClient

    client = TestClient(app, base_url="http://127.0.0.1")
    t0 = time.perf_counter()
    header = client.get("/api/tracks").content
    out["tracks_cold_s"] = time.perf_counter() - t0
    out["tracks_mb"] = len(header) / 1e6
    t0 = time.perf_counter()
    client.get("/api/stays")
    out["stays_cold_s"] = time.perf_counter() - t0
    filters = ["sex=F", "sex=M", "age_band=10-15", "ethnicity=White", "team=North", "repeat=2", "disability=true",
               "sex=F&age_band=1-4", "uasc=true", "ethnicity=Asian"]
    api = []
    for f in filters:
        t0 = time.perf_counter()
        for path in ("/api/tracks", "/api/stays"):
            res = client.get(f"{path}?{f}")
            assert res.status_code in (200, 422), (f, res.status_code)
        api.append((time.perf_counter() - t0) * 1000)
    out["filter_ms"] = {"p50": statistics.median(api), "p95": pct(api, 95)}
    print(f"  county API: tracks {out['tracks_mb']:.1f} MB cold {out['tracks_cold_s']:.2f} s, stays cold "
          f"{out['stays_cold_s']:.2f} s; filter change (tracks+stays, uncached) p50 {out['filter_ms']['p50']:.0f} ms "
          f"p95 {out['filter_ms']['p95']:.0f} ms", flush=True)
    with Server(app) as srv:  # the tracks are cached now, as after `cscflow serve` warms them
        ctx = browser.new_context(viewport={"width": 1400, "height": 860})
        page = ctx.new_page()
        t0 = time.perf_counter()
        page.goto(srv.url + "/")
        wait_for(page, "window.cscflow && window.cscflow.ready", timeout=120, interval=0.02)
        out["first_frame_s"] = time.perf_counter() - t0
        out["first_frame_page_ms"] = page.evaluate("cscflow.firstFrameMs")
        out["children"] = page.evaluate("document.getElementById('status').textContent")
        ctx.close()
    print(f"  county first frame: {out['first_frame_s']:.2f} s from navigation ({out['children']})", flush=True)
    app.state.cscflow.close()
    return out


COUNTY_API = ROOT / "bench" / "out" / "web_county_api"
COUNTY_DAY = "2022-04-01"


def county_api_workspace() -> Path:
    """The county preset's event log loaded once under bench/out, with each child's sex, ethnicity, birth month,
    disability and UASC from the generator's truth (the event log carries no child attributes, and cohort
    filters on an attribute-less workspace would all come back empty)."""
    import pandas as pd

    from cscflow import Workspace
    from cscflow.sources import load
    from cscflow.synth import synthesise

    ws_dir = COUNTY_API / "workspace"
    if (COUNTY_API / "ready").exists():
        return ws_dir
    print("  building the county API workspace (once)...", flush=True)
    paths = synthesise("county", seed=1, out_dir=COUNTY_API / "files", formats=["events"])
    with Workspace(ws_dir, la="999") as ws:
        load(ws, [p for p in paths if str(p).endswith("events.parquet")])
        truth = pd.read_parquet(COUNTY_API / "files" / "truth" / "children.parquet",
                                columns=["child_id", "sex", "ethnicity", "birth_date", "disability", "uasc"])
        kids = pd.DataFrame({
            "child_id": ws.pseudonymise(truth["child_id"]), "la": ws.la, "sex": truth["sex"],
            "ethnicity": truth["ethnicity"], "birth_month": truth["birth_date"].dt.to_period("M").dt.to_timestamp(),
            "disability": truth["disability"], "uasc": truth["uasc"],
        })
        ws.write("children", kids, mode="replace")
    (COUNTY_API / "ready").write_text("ok")
    return ws_dir


def county_api(rounds: int = 3) -> dict:
    """API time of a cohort filter change on the county preset, through the in-process client: ``/api/tracks``
    (the binary legs) and ``/api/counts`` (children at each station on a date) with a cohort filter, after the
    server has warmed up (first unfiltered tracks and counts). Each round clears the app's response cache, so
    every request is computed; p50/p95 over rounds x filters."""
    from fastapi.testclient import TestClient

    from cscflow.web import create_app

    app = create_app(county_api_workspace())
    st = app.state.cscflow
    client = TestClient(app, base_url="http://127.0.0.1")
    out: dict = {}
    t0 = time.perf_counter()
    blob = client.get("/api/tracks").content
    out["tracks_cold_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    client.get(f"/api/counts?date={COUNTY_DAY}")
    out["counts_cold_s"] = time.perf_counter() - t0
    teams = sorted(str(t) for t in st.ws.table("episodes").team.execute().dropna().unique())
    filters = ["sex=F", "sex=M", "age_band=10-15", "ethnicity=White", f"team={teams[0]}", "repeat=2",
               "disability=true", "sex=F&age_band=1-4", "uasc=true", "ethnicity=Asian", "repeat=3%2B",
               f"team={teams[-1]}&sex=M"]
    times: dict[str, list[float]] = {"tracks": [], "counts": [], "stays": [], "change": []}
    for _ in range(rounds):
        st._cache.clear()
        for f in filters:
            took = {}
            for name, path in (("tracks", f"/api/tracks?{f}"), ("counts", f"/api/counts?date={COUNTY_DAY}&{f}"),
                               ("stays", f"/api/stays?{f}")):
                t0 = time.perf_counter()
                res = client.get(path)
                took[name] = (time.perf_counter() - t0) * 1000
                assert res.status_code == 200, (path, res.status_code, res.text[:200])
                times[name].append(took[name])
            times["change"].append(took["tracks"] + took["counts"])
    out["ms"] = {k: {"p50": pct(v, 50), "p95": pct(v, 95)} for k, v in times.items()}
    load = f"{os.getloadavg()[0]:.1f}"
    print(f"  county API ({st.ws.count('episodes'):,} stays; load average {load}): tracks cold "
          f"{out['tracks_cold_s']:.2f} s ({len(blob) / 1e6:.1f} MB), counts cold {out['counts_cold_s']:.2f} s", flush=True)
    for k, v in out["ms"].items():
        label = {"change": "filter change = tracks + counts"}.get(k, f"/api/{k} with a filter")
        print(f"  {label:34s} p50 {v['p50']:6.0f} ms  p95 {v['p95']:6.0f} ms  ({len(times[k])} requests)"
              + ("  (target p95 < 200 ms)" if k == "change" else ""), flush=True)
    st.close()
    return out


def main() -> None:
    """County time to first frame and API timings; frame times are bench_web_frames' (run both)."""
    if sys.argv[1:2] == ["county-api"]:
        county_api()
        return
    from playwright.sync_api import sync_playwright

    import bench.bench_web_frames as frames
    from conftest import CHROMIUM, CHROMIUM_ARGS

    frames.main()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        bench_county(browser)
        browser.close()
    county_api()


if __name__ == "__main__":
    main()
