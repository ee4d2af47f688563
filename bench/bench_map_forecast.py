"""The map's forecast period (simulated dots, ``/api/tracks/simulated``) on the synthetic county, beside the map's
own tracks (``/api/tracks``) and the Forecast page's fan chart (``/api/forecast``) in the same run.

Timed through the app's in-process client on one workspace (the county preset, journeys as one event log, as
``bench forecast`` builds it; ``CSCFLOW_BENCH_WS=path`` uses a workspace already built):

- the real tracks, cold (the baseline: what the map loads first);
- the simulated tracks, cold: the model's fit (the Forecast page's, 10 bootstrap replicates) and one run;
- another run (the fit cached: what "Another run" costs), then the same run again (the app's cache);
- the Forecast page's looked-after fan chart with the fit cached (100 simulations).

With ``CSCFLOW_BENCH_FRAMES=1`` also the frame interval of the map playing at 2 days a second in headless
Chromium (SwiftShader), p50 and p95 over 120 frames, 30 days before the origin (real dots) and 30 days after it
(simulated dots only), with the main thread's cost of a frame (``cscflow.probe``).
Run: ``.venv/bin/python -m bench map_forecast``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "web"))
sys.path.insert(0, str(ROOT / "tests" / "browser"))


def _workspace(root: Path) -> Path:
    from cscflow.synth import simulate
    from cscflow.synth.from_workspace import county_workspace
    from cscflow.synth.params import load_parameters

    ws = county_workspace(simulate(load_parameters("county"), seed=5), root)
    path = Path(ws.path)
    ws.close()
    return path


def _timed(client, url: str, **params) -> tuple[float, bytes]:
    t0 = time.perf_counter()
    r = client.get(url, params=params, headers={"accept-encoding": "identity"})
    assert r.status_code == 200, r.text[:300]
    return time.perf_counter() - t0, r.content


def _frames(server, origin: str) -> dict[str, dict[str, float]]:
    import pandas as pd
    from playwright.sync_api import sync_playwright

    from bench.bench_web_frames import RAF, pct
    from conftest import CHROMIUM, CHROMIUM_ARGS, wait_for

    out = {}
    o = pd.Timestamp(origin)
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        for name, day in (("real, before the origin", o - pd.Timedelta(days=30)),
                          ("simulated, after the origin", o + pd.Timedelta(days=30))):
            page = b.new_page(viewport={"width": 1400, "height": 860})
            page.goto(f"{server.url}/?forecast=1&horizon=12&date={day.date()}")
            wait_for(page, "window.cscflow && cscflow.ready && cscflow.simulated.loaded", timeout=300)
            page.evaluate("cscflow.setSpeed(2); cscflow.play()")
            page.evaluate(RAF, 30)
            raf = page.evaluate(RAF, 120)
            page.evaluate("cscflow.drawMs = []; cscflow.probe = true")
            page.evaluate(RAF, 120)
            draw = page.evaluate("cscflow.probe = false, cscflow.drawMs")
            out[name] = {"p50": pct(raf, 50), "p95": pct(raf, 95), "draw_p50": pct(draw, 50),
                         "draw_p95": pct(draw, 95), "dots": page.evaluate("cscflow.dotsDrawn"),
                         "simulated": page.evaluate("cscflow.simulated.dotsDrawn"), "dots_mode": page.evaluate("cscflow.dots")}
            page.close()
        b.close()
    return out


def main() -> None:
    from fastapi.testclient import TestClient

    from cscflow.journeys.tracks import read_blob
    from cscflow.web import create_app

    with tempfile.TemporaryDirectory() as tmp:
        given = os.environ.get("CSCFLOW_BENCH_WS")
        t0 = time.perf_counter()
        path = Path(given) if given else _workspace(Path(tmp) / "county")
        if not given:
            print(f"county workspace built in {time.perf_counter() - t0:.1f} s")
        app = create_app(path)
        try:
            c = TestClient(app, base_url="http://127.0.0.1:8765")
            real_s, real = _timed(c, "/api/tracks")
            rh = read_blob(real)[0]
            cold_s, blob = _timed(c, "/api/tracks/simulated", horizon=12, run=1)
            h, a = read_blob(blob)
            run_s, blob2 = _timed(c, "/api/tracks/simulated", horizon=12, run=2)
            again_s, _ = _timed(c, "/api/tracks/simulated", horizon=12, run=2)
            fan_s, _ = _timed(c, "/api/forecast", measure="looked_after", horizon=12)
            h2 = read_blob(blob2)[0]
            print(f"real tracks (baseline, cold): {real_s:.2f} s, {rh['n_children']:,} children, {rh['n_legs']:,} legs, "
                  f"{len(real) / 2**20:.1f} MB")
            print(f"simulated tracks, cold (fit + one run): {cold_s:.2f} s; {h['n_children']:,} simulated children "
                  f"({h['n_open']} open at the origin {h['origin']}), {h['n_legs']:,} legs, {len(blob) / 2**20:.1f} MB")
            print(f"another run (fit cached): {run_s:.2f} s ({h2['n_children']:,} children); the same run again (cached): "
                  f"{again_s * 1000:.1f} ms")
            print(f"Forecast page fan chart, fit cached (baseline): {fan_s:.2f} s")
            print(f"ratio: another run / real tracks cold = {run_s / real_s:.2f}; "
                  f"first departure day {float(np.min(a['depart'])):.0f} = origin day {h['origin_day']}")
            if os.environ.get("CSCFLOW_BENCH_FRAMES") == "1":
                from browser_kit import Server

                with Server(app) as srv:
                    for name, f in _frames(srv, h["origin"]).items():
                        print(f"frames, {name}: p50 {f['p50']:.1f} ms, p95 {f['p95']:.1f} ms; main thread p50 "
                              f"{f['draw_p50']:.1f} ms, p95 {f['draw_p95']:.1f} ms; {f['dots']:,} dots "
                              f"({f['simulated']:,} simulated, {f['dots_mode']})")
        finally:
            app.state.cscflow.close()


if __name__ == "__main__":
    main()
