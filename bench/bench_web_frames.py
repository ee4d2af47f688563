"""Frame times of the dynamic map (WebGL2) beside a one-SVG-element-per-dot page, measured in the same run.

- Ours: the real page (index.html, main.js, gl.js, the SVG tube map and station counts) on a small workspace,
  with ``/api/tracks`` and ``/api/stays`` answered by synthetic blobs in the contract's layout where every child
  is moving all the time (legs back to back between stations; a leg between a station and itself waits there) --
  10k, 50k and 100k dots by default, 1M with ``CSCFLOW_BENCH_SIZES=1000000`` (past 250k dots the page draws density:
  density.js). The blobs are served over HTTP by a wrapper around the app (``Synthetic``).
  Playing at 2 days per second (so station counts are recomputed about twice a second, as in real use).
- Baseline: the prototype's D3-style approach, one SVG ``<circle>`` per dot with cx/cy set every frame, in the
  same browser and run, at 1k to 10k dots.
- Frame time: the interval between ``requestAnimationFrame`` callbacks while playing (what the user sees; on
  this machine the compositor and SwiftShader's rasterising run in the GPU process, so this is the honest
  figure), p50 and p95 over ``FRAMES`` frames after a warm-up. For our page also the main-thread cost of one
  frame: ``performance.now()`` around the frame's JavaScript and draw calls plus ``gl.finish()``
  (``cscflow.probe``).
- Ratio at equal frame time: the dots the SVG page holds at our p95 (log-linear interpolation between its
  measured sizes, extrapolated past 10k with its own slope) against ours.

Run: ``.venv/bin/python -m bench web_frames`` (headless Debian Chromium, SwiftShader software WebGL here).
``CSCFLOW_BENCH_SIZES=10000,50000`` limits our sizes; ``CSCFLOW_BENCH_SHOT=path.png`` keeps a 50k screenshot;
``CSCFLOW_BENCH_QUERY=desync=1`` adds page options (``desync=1``: a desynchronized WebGL context) to our page's URL;
``CSCFLOW_BENCH_SVG=0`` skips the SVG page (for comparing our page's options only);
``CSCFLOW_BENCH_DOTS=splat,points`` (default) chooses the page's dot modes: ``splat`` (what the page picks on
software WebGL: positions computed in JavaScript and stamped into an index image drawn with the map in one pass)
and ``points`` (one point primitive per dot, positions interpolated in the vertex shader: what a GPU gets).
``CSCFLOW_BENCH_BASELINE=HEAD`` (any git revision) also measures that revision's page (its ``web/static`` files,
served in place of the working tree's by the same app and data) at each size, alternately with ours,
``CSCFLOW_BENCH_PAIRS`` times (default 2): on a shared machine, old and new then see the same load.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "web"))
sys.path.insert(0, str(ROOT / "tests" / "browser"))

DOT_SIZES = tuple(int(s) for s in os.environ.get("CSCFLOW_BENCH_SIZES", "10000,50000,100000").split(","))
SVG_SIZES = (1_000, 2_000, 5_000, 10_000) if os.environ.get("CSCFLOW_BENCH_SVG", "1") != "0" else ()
DOT_MODES = tuple(os.environ.get("CSCFLOW_BENCH_DOTS", "splat,points").split(","))
BASELINE = os.environ.get("CSCFLOW_BENCH_BASELINE", "")
PAIRS = int(os.environ.get("CSCFLOW_BENCH_PAIRS", "2")) if BASELINE else 1
FRAMES = 120
TARGET_MS = 33.0

RAF = """async (n) => {
  const times = [];
  await new Promise((resolve) => {
    let last = null;
    function tick(now) {
      if (last !== null) times.push(now - last);
      last = now;
      if (times.length >= n) resolve(); else requestAnimationFrame(tick);
    }
    requestAnimationFrame(tick);
  });
  return times;
}"""

# Intervals between frames the page drew (cscflow.frames changed), over n display frames: in density mode the page
# draws at most 30 frames a second (main.js PACE_MS), so the display frames' intervals alone would flatter it.
DRAWN = """async (n) => {
  const drawn = [];
  await new Promise((resolve) => {
    let k = 0, last = null, frames = cscflow.frames;
    function tick(now) {
      if (cscflow.frames !== frames) { if (last !== null) drawn.push(now - last); last = now; frames = cscflow.frames; }
      if (++k >= n) resolve(); else requestAnimationFrame(tick);
    }
    requestAnimationFrame(tick);
  });
  return drawn;
}"""

SVG_PAGE = """<!doctype html><html><body style="margin:0;background:#0f1822">
<svg id="s" width="1070" height="720"></svg>
<script>
function start(n) {
  const svg = document.getElementById('s');
  const ax = new Float32Array(n), ay = new Float32Array(n), bx = new Float32Array(n), by = new Float32Array(n);
  const dots = [];
  for (let i = 0; i < n; i++) {
    ax[i] = Math.random() * 1000; ay[i] = Math.random() * 700; bx[i] = Math.random() * 1000; by[i] = Math.random() * 700;
    const c = document.createElementNS('http://www.w3.org/2000/svg', 'circle');
    c.setAttribute('r', 2.5); c.setAttribute('fill', '#fff');
    svg.appendChild(c); dots.push(c);
  }
  const t0 = performance.now();
  function frame(now) {
    const p = ((now - t0) / 4000) % 1;
    for (let i = 0; i < n; i++) {
      dots[i].setAttribute('cx', ax[i] + (bx[i] - ax[i]) * p);
      dots[i].setAttribute('cy', ay[i] + (by[i] - ay[i]) * p);
    }
    requestAnimationFrame(frame);
  }
  requestAnimationFrame(frame);
}
</script></body></html>"""


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def synthetic_blobs(n_children: int, stations: list[dict], seed: int = 1) -> tuple[bytes, bytes]:
    """Tracks and stays where every child is on the move between two stations all the time (6 legs each)."""
    from cscflow.journeys.tracks import Tracks
    from cscflow.journeys.tracks import pack_blob as pack

    rng = np.random.default_rng(seed)
    inner = [i for i, s in enumerate(stations) if s["zone"] != "exit"]
    legs_per_child = 6
    child = np.repeat(np.arange(n_children, dtype="uint32"), legs_per_child)
    dur = rng.uniform(20, 90, size=(n_children, legs_per_child))
    start = rng.uniform(-40, 0, size=n_children)
    arrive = start[:, None] + np.cumsum(dur, axis=1)
    depart = arrive - dur
    hops = rng.choice(inner, size=(n_children, legs_per_child + 1))
    frm, to = hops[:, :-1].ravel(), hops[:, 1:].ravel()
    epoch = np.datetime64("2022-01-01")
    t = Tracks(
        epoch=epoch.astype(object), end=(epoch + 365).astype(object), convention="travel", stations=stations,
        child_ids=np.array([f"x{i}" for i in range(n_children)]), child=child,
        from_=frm.astype("uint16"), to=to.astype("uint16"),
        depart=np.maximum(depart, 0).ravel().astype("float32"), arrive=np.maximum(arrive, 0).ravel().astype("float32"),
        repeat=rng.integers(1, 5, size=child.size).astype("uint8"),
        attributes={"sex": ["F", "M", "U"]}, codes={"sex": rng.integers(0, 2, size=n_children).astype("uint8")},
    )
    day0 = int((epoch - np.datetime64("1970-01-01")).astype(int))
    stays = pack(
        {"version": 1, "kind": "stays", "stations": [s["id"] for s in stations], "n_stays": int(child.size)},
        {"child": child, "station": to.astype("uint16"),
         "start": (day0 + np.floor(np.maximum(depart, 0))).ravel().astype("<i4"),
         "end": (day0 + np.floor(np.maximum(arrive, 0))).ravel().astype("<i4")},
    )
    return t.to_bytes(), stays


class Synthetic:
    """The app with ``/api/tracks`` and ``/api/stays`` answered by the blobs in ``blobs`` (path -> bytes), over HTTP as
    the app answers them. (Playwright's ``page.route`` would pass each blob base64-encoded through the DevTools
    protocol: at 1M dots, 103 + 84 MB, which took minutes and then killed the page.)"""

    def __init__(self, app) -> None:
        self.app = app
        self.state = app.state
        self.blobs: dict[str, bytes] = {}
        self.static = None   # an ASGI app serving another revision's page ("/" and /static/), while set

    async def __call__(self, scope, receive, send) -> None:
        if self.static and scope["type"] == "http" and (scope["path"] == "/" or scope["path"].startswith("/static/")):
            await self.static(scope, receive, send)
            return
        body = self.blobs.get(scope["path"]) if scope["type"] == "http" else None
        if body is None:
            await self.app(scope, receive, send)
            return
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", b"application/octet-stream"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def baseline_page(rev: str, into: Path):
    """The page of git revision ``rev`` (its src/cscflow/web/static, extracted into ``into``) as an ASGI app with the
    app's security headers, for Synthetic.static."""
    import subprocess
    import tarfile

    from starlette.applications import Starlette
    from starlette.responses import FileResponse
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    from cscflow.web.security import SecurityMiddleware

    tar = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "src/cscflow/web/static"], check=True,
                         capture_output=True).stdout
    tar_path = into / "static.tar"
    tar_path.write_bytes(tar)
    with tarfile.open(tar_path) as t:
        t.extractall(into, filter="data")
    static = into / "src" / "cscflow" / "web" / "static"

    async def index(request):
        return FileResponse(static / "index.html", headers={"cache-control": "no-store"})

    return SecurityMiddleware(Starlette(routes=[Route("/", index), Mount("/static", StaticFiles(directory=static))]))


def ours(browser, server, n: int, shot: str | None = None, dots: str = "splat") -> dict:
    from conftest import wait_for

    stations = [dict(s) for s in server.app.state.cscflow.pmap.stations]
    server.app.blobs["/api/tracks"], server.app.blobs["/api/stays"] = synthetic_blobs(n, stations)
    ctx = browser.new_context(viewport={"width": 1400, "height": 860})
    page = ctx.new_page()
    extra = os.environ.get("CSCFLOW_BENCH_QUERY", "")
    page.goto(f"{server.url}/?date=2022-04-01&dots={dots}" + (f"&{extra}" if extra else ""))
    wait_for(page, "window.cscflow && window.cscflow.ready", timeout=120)
    assert page.evaluate("cscflow.dots") == dots
    device = page.evaluate("cscflow.device")
    page.evaluate("cscflow.setSpeed(2); cscflow.play()")
    page.evaluate(RAF, 30)  # warm up
    raf = page.evaluate(RAF, FRAMES)
    between = page.evaluate(DRAWN, FRAMES)
    dense = page.evaluate("cscflow.density.on")
    count_ms = page.evaluate("cscflow.density.countMs") if dense else None   # the worker's count, when it has one
    drawn = page.evaluate("cscflow.dotsDrawn")
    draw: list[float] = []
    if page.evaluate("'probe' in cscflow"):
        page.evaluate("cscflow.drawMs = []; cscflow.probe = true")
        page.evaluate(RAF, FRAMES)
        draw = page.evaluate("cscflow.probe = false, cscflow.drawMs")
    if shot:
        page.evaluate("cscflow.pause()")
        page.screenshot(path=shot)
    ctx.close()
    server.app.blobs.clear()
    out = {"p50": pct(raf, 50), "p95": pct(raf, 95), "dots": drawn, "device": device, "dense": dense,
           "drawn_p50": pct(between, 50), "drawn_p95": pct(between, 95), "count_ms": count_ms}
    if draw:
        out["draw_p50"], out["draw_p95"] = pct(draw, 50), pct(draw, 95)
    return out


def svg(browser, n: int) -> dict:
    ctx = browser.new_context(viewport={"width": 1400, "height": 860})
    page = ctx.new_page()
    page.set_content(SVG_PAGE)
    page.evaluate(f"start({n})")
    page.evaluate(RAF, 10)
    times = page.evaluate(RAF, 60)
    ctx.close()
    return {"p50": pct(times, 50), "p95": pct(times, 95)}


def svg_capacity(svg_res: dict, frame_ms: float) -> float:
    """Dots the SVG page holds at p95 <= frame_ms: log-log interpolation between its measured sizes (extrapolated
    with the slope of the nearest two sizes outside them)."""
    sizes = sorted(svg_res)
    x = np.log([float(n) for n in sizes])
    y = np.log([max(svg_res[n]["p95"], 1e-3) for n in sizes])
    y = np.maximum.accumulate(y)  # frame time does not fall with more dots; keep it monotone for interpolation
    t = np.log(frame_ms)
    for i in range(len(sizes) - 1):
        if y[i] <= t <= y[i + 1] and y[i + 1] > y[i]:
            return float(np.exp(x[i] + (t - y[i]) * (x[i + 1] - x[i]) / (y[i + 1] - y[i])))
    i, j = (0, 1) if t < y[0] else (len(sizes) - 2, len(sizes) - 1)
    # Outside the measured sizes: the nearest two sizes' slope, or frame time proportional to dots where those
    # two are level (a flat or noisy pair would extrapolate to absurd capacities).
    slope = (x[j] - x[i]) / (y[j] - y[i]) if y[j] - y[i] > 0.05 else 1.0
    base = i if t < y[0] else j
    return float(np.exp(x[base] + (t - y[base]) * slope))


def main() -> None:
    import small_county
    from playwright.sync_api import sync_playwright

    from conftest import CHROMIUM, CHROMIUM_ARGS, Server
    from cscflow.web import create_app

    work = ROOT / "bench" / "out" / "web_small"
    if not (work / "cscflow.duckdb").exists():
        small_county.build(work)
    import tempfile

    app = Synthetic(create_app(work))
    loads = [os.getloadavg()[0]]
    res: dict = {"svg": {}}
    with Server(app) as server, sync_playwright() as pw, tempfile.TemporaryDirectory() as tmp:
        server.app = app
        old = baseline_page(BASELINE, Path(tmp)) if BASELINE else None
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        for mode in DOT_MODES:
            for n in DOT_SIZES:
                for k in range(PAIRS):
                    for page_of in ([BASELINE, "ours"] if k % 2 == 0 else ["ours", BASELINE]) if old else ["ours"]:
                        app.static = old if page_of == BASELINE else None
                        shot = os.environ.get("CSCFLOW_BENCH_SHOT") if n == 50_000 and mode == DOT_MODES[0] else None
                        r = ours(browser, server, n, shot if page_of == "ours" else None, mode)
                        app.static = None
                        if page_of == "ours":
                            res.setdefault(mode, {})[n] = r
                        loads.append(os.getloadavg()[0])
                        extra = (f"  (frame JS+draw+finish p50 {r['draw_p50']:5.1f} p95 {r['draw_p95']:5.1f} ms)"
                                 if "draw_p50" in r else "")
                        extra += (f"  between drawn frames p50 {r['drawn_p50']:5.1f} p95 {r['drawn_p95']:5.1f} ms"
                                  + ("  [density]" if r["dense"] else ""))
                        extra += (f"  count {r['count_ms']:.1f} ms in the worker (median of 60)"
                                  if r["count_ms"] is not None else "")
                        label = f"{page_of} page " if old else ""
                        print(f"  {label}cscflow map, {mode:<6} {n:>7,} dots ({r['dots']:,} on screen): p50 "
                              f"{r['p50']:6.1f} ms  p95 {r['p95']:6.1f} ms{extra}  (load {loads[-1]:.1f})", flush=True)
        for n in SVG_SIZES:
            r = res["svg"][n] = svg(browser, n)
            loads.append(os.getloadavg()[0])
            print(f"  SVG page    {n:>7,} dots: p50 {r['p50']:6.1f} ms  p95 {r['p95']:6.1f} ms", flush=True)
        browser.close()
    app.state.cscflow.close()
    device = next(iter(res[DOT_MODES[0]].values()))["device"]
    print(f"  WebGL renderer (UNMASKED_RENDERER_WEBGL): {device}")
    print(f"  load average (1 min) during the run: {min(loads):.1f}-{max(loads):.1f}")
    for mode in DOT_MODES:
        for n, r in res[mode].items() if res["svg"] else ():
            cap = svg_capacity(res["svg"], r["p95"])
            print(f"  {mode:<6} at p95 {r['p95']:5.1f} ms: ours {n:,} dots, SVG ~{cap:,.0f} -> {n / cap:5.1f}x "
                  "(target >= 20x)")
        if 50_000 in res[mode]:
            p95 = res[mode][50_000]["p95"]
            print(f"  {mode:<6} 50k dots p95 {p95:.1f} ms (target <= {TARGET_MS:.0f} ms): "
                  f"{'met' if p95 <= TARGET_MS + 0.5 else 'not met'}")


if __name__ == "__main__":
    main()
