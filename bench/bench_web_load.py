"""The web app under a team's load: ``cscflow serve`` on the county as its own process, and this process (asyncio +
httpx) playing ``CLIENTS`` users at once for ``SECONDS`` seconds, each sending its next request as soon as the
last is answered.

Each user draws its requests from the mix the pages send: the map (``/api/map``), counts at the stations on a
date (``/api/counts``), one station's panel (``/api/stations/{id}?date=``), a flow table (``/api/flow/{table}``,
half of them for a cohort), one child's journey (``/api/children/{i}``), an analysis (``/api/stats/{name}``)
and, now and then, the tracks blob (``/api/tracks``). Dates are the first days of the months of the data's
observation window; cohorts are sex, a team, repeat episodes; tables and analyses are those the pages offer.

Reported: requests per second, p50 / p95 / p99 latency overall and per kind, errors (any status but 200, or no
answer), and the machine's load average before, during and after. The first run after the server starts pays
for building what the caches then hold; ``CSCFLOW_BENCH_WARMUP`` seconds of the same load (default 0) are run
first and not counted.

The load generator: ``wrk`` (a C load generator, Debian's ``apt-get install -y wrk``; two threads, a Lua script
drawing each request from the same mix, pre-drawn by :class:`Plan`) when it is on the PATH, else this process
(asyncio + httpx, which costs ~2 ms of CPU a request and saturates a core before the server does: its latencies
then measure the generator). ``CSCFLOW_BENCH_GENERATOR=python`` forces the Python one (per-kind figures).

Run: ``.venv/bin/python -m bench web_load``. Environment: ``CSCFLOW_BENCH_WS`` (a workspace; default the demo
county's, built with ``./run demo --no-serve``), ``CSCFLOW_BENCH_CLIENTS`` (50), ``CSCFLOW_BENCH_SECONDS`` (60),
``CSCFLOW_BENCH_WARMUP`` (0), ``CSCFLOW_BENCH_URL`` (load a server already running instead of starting one),
``CSCFLOW_BENCH_SEED`` (0), ``CSCFLOW_BENCH_MIX`` (weights to change, e.g. ``tracks=0,child=5``),
``CSCFLOW_BENCH_FRAMES`` (1: a map page plays on the same server the whole time, 0: no page),
``CSCFLOW_BENCH_THINK_MS`` (0: each client asks again as soon as it is answered, a closed loop that saturates the
machine; e.g. 2500: each pauses a random time about that mean (0.2-1.8 times it, under the server's 5 s
keep-alive), as people reading a page do: 50 such users ask ~20 times a second; wrk only).

The page playing at the same time (the issue: "the frame rate of a page playing at the same time stays as it
is"): headless Debian Chromium (software WebGL, as on an LA's PC without a GPU) opens the county's map, plays it
at 7 days a second and records the interval between ``requestAnimationFrame`` callbacks, first for
``FRAME_SECONDS`` with no other client (the baseline), then during the load (from 5 s into it), then again after
it. The page, the server and the load generator share this machine's cores: what the page loses under load is
what a manager's browser on the same PC as the server would lose.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CSCFLOW = str(Path(sys.executable).parent / "cscflow")
#: What each simulated user asks for, with how often (weights).
MIX = {"map": 1, "counts": 4, "station": 3, "flow": 3, "child": 3, "stats": 1, "tracks": 0.2}
FLOW_TABLES = ("stations", "conversion", "durations", "dfg", "rereferrals", "nfa_by_prior", "s47_outcomes")
ANALYSES = ("rereferral", "referral-to-cp", "funnel", "leaving-care", "incidence")
TARGET_P95 = 0.200
FRAME_SECONDS = 15.0
THINK_MS = int(os.environ.get("CSCFLOW_BENCH_THINK_MS", 0))
#: Frame intervals (ms) of a page playing the map, collected for ``seconds`` (the page's own clock).
FRAMES_JS = """async (seconds) => {
  const times = [];
  await new Promise((resolve) => {
    let last = null; const end = performance.now() + seconds * 1000;
    function tick(now) {
      if (last !== null) times.push(now - last);
      last = now;
      if (now >= end) resolve(); else requestAnimationFrame(tick);
    }
    requestAnimationFrame(tick);
  });
  return times;
}"""
#: What went wrong, and how often (printed after the run).
ERRORS: dict[str, int] = {}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pct(xs: list[float], p: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(p / 100 * len(xs)) - 1))]


class Plan:
    """The parameters requests are drawn from, read from the server's own ``/api/map`` and tracks."""

    def __init__(self, info: dict[str, Any], n_children: int, seed: int) -> None:
        import datetime as dt

        self.rng = random.Random(seed)
        self.stations = [s["id"] for s in info["stations"]]
        first, last = (dt.date.fromisoformat(d) for d in (info.get("window") or ["2014-04-01", "2018-03-31"]))
        self.dates, d = [], dt.date(first.year, first.month, 1)
        while d <= last:
            self.dates.append(d.isoformat())
            d = dt.date(d.year + (d.month == 12), d.month % 12 + 1, 1)
        teams = info.get("values", {}).get("team", [])[:4]
        self.cohorts: list[dict[str, str]] = [{}, {"sex": "F"}, {"sex": "M"}, {"repeat": "2"},
                                              *({"team": t} for t in teams)]
        self.n_children = max(1, n_children)
        self.kinds = list(MIX)
        self.weights = [MIX[k] for k in self.kinds]

    def next(self, rng: random.Random) -> tuple[str, str, dict[str, str]]:
        kind = rng.choices(self.kinds, self.weights)[0]
        if kind == "map":
            return kind, "/api/map", {}
        if kind == "counts":
            return kind, "/api/counts", {"date": rng.choice(self.dates), **rng.choice(self.cohorts)}
        if kind == "station":
            return kind, f"/api/stations/{rng.choice(self.stations)}", {"date": rng.choice(self.dates)}
        if kind == "flow":
            who = rng.choice(self.cohorts) if rng.random() < 0.5 else {}
            return kind, f"/api/flow/{rng.choice(FLOW_TABLES)}", who
        if kind == "child":
            return kind, f"/api/children/{rng.randrange(self.n_children)}", {}
        if kind == "stats":
            return kind, f"/api/stats/{rng.choice(ANALYSES)}", {}
        return kind, "/api/tracks", {}


async def _user(client: Any, plan: Plan, seed: int, until: float, out: list[tuple[str, float, int]]) -> None:
    rng = random.Random(seed)
    while time.perf_counter() < until:
        kind, path, params = plan.next(rng)
        t0 = time.perf_counter()
        try:
            r = await client.get(path, params=params)
            await r.aread()
            status = r.status_code
        except Exception as exc:  # noqa: BLE001 - a request with no answer is an error of the run
            status = 0
            ERRORS[f"{kind}: {type(exc).__name__} {str(exc)[:80]}"] = ERRORS.get(f"{kind}: {type(exc).__name__} {str(exc)[:80]}", 0) + 1
        if status not in (0, 200):
            ERRORS[f"{kind}: HTTP {status} {path}"] = ERRORS.get(f"{kind}: HTTP {status} {path}", 0) + 1
        out.append((kind, time.perf_counter() - t0, status))


async def _load(url: str, clients: int, seconds: float, seed: int, plan: Plan) -> tuple[list[Any], float]:
    import httpx

    out: list[tuple[str, float, int]] = []
    # idle connections dropped before uvicorn closes them (its keep-alive is 5 s), as a browser does
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients, keepalive_expiry=4.0)
    async with httpx.AsyncClient(base_url=url, timeout=60.0, limits=limits) as client:
        t0 = time.perf_counter()
        until = t0 + seconds
        await asyncio.gather(*(_user(client, plan, seed * 1000 + i, until, out) for i in range(clients)))
        took = time.perf_counter() - t0
    return out, took


WRK_SCRIPT = r"""
-- the paths pre-drawn from the mix, one per line; each thread starts at its own place and cycles
wrk.headers["Accept-Encoding"] = "gzip, deflate, br"  -- as browsers (and httpx) send it
local paths = {}
for line in io.lines(os.getenv("CSCFLOW_WRK_PATHS")) do paths[#paths + 1] = line end
local threads = {}
local i = 0
function setup(thread) thread:set("id", #threads); threads[#threads + 1] = thread end
function init(args) i = (id * 7919) % #paths; math.randomseed(7919 + id) end
-- a user's pause between answers (CSCFLOW_WRK_THINK_MS: uniform from 0.2 to 1.8 times that mean): a team's pace;
-- none: closed loop. Kept under the server's 5 s keep-alive (uvicorn closes an idle connection then: a browser
-- opens a new one unseen, wrk counts a socket error).
local think = tonumber(os.getenv("CSCFLOW_WRK_THINK_MS") or "0")
if think > 0 then
  function delay() return math.floor(think * (0.2 + 1.6 * math.random())) end
end
function request() i = i % #paths + 1; return wrk.format("GET", paths[i]) end
local bad = 0
function response(status, headers, body) if status ~= 200 then bad = bad + 1 end end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('CSCFLOW {"requests": %d, "seconds": %f, "p50": %f, "p95": %f, "p99": %f, "max": %f, '
    .. '"socket_errors": %d, "non_2xx": %d}\n', summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1e6, latency:percentile(95) / 1e6, latency:percentile(99) / 1e6, latency.max / 1e6,
    e.connect + e.read + e.write + e.timeout, e.status))
end
"""


def _paths(plan: Plan, seed: int, n: int = 50_000) -> list[str]:
    """``n`` request paths (with their query strings) drawn from the mix, as the Python users draw them."""
    from urllib.parse import urlencode

    rng = random.Random(seed)
    out = []
    for _ in range(n):
        _kind, path, params = plan.next(rng)
        out.append(path + ("?" + urlencode(params) if params else ""))
    return out


def _wrk(url: str, clients: int, seconds: float, seed: int, plan: Plan) -> dict[str, Any]:
    """One run of wrk (2 threads, ``clients`` connections): requests, seconds, p50/p95/p99/max (s), errors."""
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "paths.txt").write_text("\n".join(_paths(plan, seed)) + "\n")
        (Path(d) / "mix.lua").write_text(WRK_SCRIPT)
        out = subprocess.run(["wrk", "-t2", f"-c{clients}", f"-d{int(seconds)}s", "--timeout", "60s",
                              "-s", str(Path(d) / "mix.lua"), url], capture_output=True, text=True,
                             env={**os.environ, "CSCFLOW_WRK_PATHS": str(Path(d) / "paths.txt"),
                                  "CSCFLOW_WRK_THINK_MS": str(THINK_MS)}, check=True)
    line = next(x for x in out.stdout.splitlines() if x.startswith("CSCFLOW "))
    return dict(json.loads(line.split(" ", 1)[1]))


def _report_wrk(r: dict[str, Any], clients: int) -> None:
    errors = int(r["socket_errors"] + r["non_2xx"])
    ok = r["p95"] <= TARGET_P95 and not errors
    print(f"  wrk: {r['requests']:,} requests in {r['seconds']:.1f} s by {clients} connections: "
          f"{r['requests'] / r['seconds']:.1f} requests/s; p50 {r['p50'] * 1000:.0f} ms, p95 {r['p95'] * 1000:.0f} ms, "
          f"p99 {r['p99'] * 1000:.0f} ms, max {r['max'] * 1000:.0f} ms; errors {errors} (socket {r['socket_errors']}, "
          f"not 200: {r['non_2xx']}) (target p95 <= {TARGET_P95 * 1000:.0f} ms, 0 errors: {'met' if ok else 'NOT met'})")


def _plan(url: str, seed: int) -> Plan:
    import httpx

    with httpx.Client(base_url=url, timeout=600.0) as c:
        info = c.get("/api/map").raise_for_status().json()
        blob = c.get("/api/tracks").raise_for_status().content
    from cscflow.journeys.tracks import read_blob  # the contract's reader (docs/contracts.md)

    header, _ = read_blob(blob)
    n_children = int(header.get("n_children") or 1000)
    return Plan(info, n_children, seed)


def _start(ws: str) -> tuple[subprocess.Popen[bytes], str]:
    import httpx

    port = _free_port()
    proc = subprocess.Popen([CSCFLOW, "serve", ws, "--port", str(port)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 300
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"cscflow serve exited: {proc.stderr.read().decode()[-2000:] if proc.stderr else ''}")
        try:
            if httpx.get(url + "/api/map", timeout=120).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.3)
    proc.terminate()
    raise RuntimeError("cscflow serve did not answer within 300 s")


def _own_cpu() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _server_cpu(proc: subprocess.Popen[bytes] | None) -> float:
    """CPU seconds (user + system) of the server process so far (Linux /proc), 0 when unknown."""
    if proc is None:
        return 0.0
    try:
        fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def report(rows: list[tuple[str, float, int]], took: float, clients: int) -> dict[str, Any]:
    """Print and return the figures of one run."""
    lat = [t for _, t, _ in rows]
    errors = sum(1 for _, _, s in rows if s != 200)
    p95 = _pct(lat, 95)
    print(f"  {len(rows):,} requests in {took:.1f} s by {clients} clients: {len(rows) / took:.1f} requests/s; "
          f"p50 {_pct(lat, 50) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, p99 {_pct(lat, 99) * 1000:.0f} ms, "
          f"max {max(lat, default=0) * 1000:.0f} ms; errors {errors} "
          f"(target p95 <= {TARGET_P95 * 1000:.0f} ms, 0 errors: {'met' if p95 <= TARGET_P95 and not errors else 'NOT met'})")
    for kind in MIX:
        ks = [t for k, t, _ in rows if k == kind]
        if ks:
            ke = sum(1 for k, _, s in rows if k == kind and s != 200)
            print(f"    {kind:8s} {len(ks):6,} requests, p50 {_pct(ks, 50) * 1000:6.0f} ms, p95 "
                  f"{_pct(ks, 95) * 1000:6.0f} ms, p99 {_pct(ks, 99) * 1000:6.0f} ms, errors {ke}")
    for what, n in sorted(ERRORS.items(), key=lambda kv: -kv[1])[:10]:
        print(f"    error x{n}: {what}")
    return {"requests": len(rows), "rps": len(rows) / took, "p50": _pct(lat, 50), "p95": p95,
            "p99": _pct(lat, 99), "errors": errors}


class PlayingPage:
    """A Chromium page playing the county's map on the server under test (``close()`` when done)."""

    def __init__(self, url: str) -> None:
        sys.path.insert(0, str(ROOT / "tests" / "web"))
        sys.path.insert(0, str(ROOT / "tests" / "browser"))
        from playwright.sync_api import sync_playwright

        from conftest import CHROMIUM, CHROMIUM_ARGS, wait_for

        self._pw = sync_playwright().start()
        self._browser = self._pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        self.page = self._browser.new_page(viewport={"width": 1400, "height": 860})
        self.page.goto(url + "/")
        wait_for(self.page, "window.cscflow && window.cscflow.ready", timeout=300)
        self.page.evaluate("cscflow.setSpeed(7); cscflow.play()")
        self.page.evaluate(FRAMES_JS, 2)  # warm up

    def frames(self, seconds: float) -> dict[str, float]:
        """p50 / p95 / p99 frame interval (ms) and frames per second over ``seconds`` of playing."""
        if not self.page.evaluate("cscflow.playing"):
            self.page.evaluate("cscflow.play()")  # the map stops at the end of the data: play it again
        times = self.page.evaluate(FRAMES_JS, seconds)
        return {"p50": _pct(times, 50), "p95": _pct(times, 95), "p99": _pct(times, 99),
                "fps": len(times) / max(sum(times) / 1000, 1e-9), "frames": len(times)}

    def close(self) -> None:
        self._browser.close()
        self._pw.stop()


def _print_frames(when: str, f: dict[str, float]) -> None:
    print(f"  page playing the map, {when}: {f['frames']} frames, {f['fps']:.1f} frames/s; frame interval "
          f"p50 {f['p50']:.1f} ms, p95 {f['p95']:.1f} ms, p99 {f['p99']:.1f} ms")


def main() -> None:
    ws = os.environ.get("CSCFLOW_BENCH_WS", str(ROOT / "demo-county" / "workspace"))
    clients = int(os.environ.get("CSCFLOW_BENCH_CLIENTS", 50))
    seconds = float(os.environ.get("CSCFLOW_BENCH_SECONDS", 60))
    warmup = float(os.environ.get("CSCFLOW_BENCH_WARMUP", 0))
    seed = int(os.environ.get("CSCFLOW_BENCH_SEED", 0))
    url = os.environ.get("CSCFLOW_BENCH_URL")
    for item in filter(None, os.environ.get("CSCFLOW_BENCH_MIX", "").split(",")):  # e.g. tracks=0,child=5
        kind, _, weight = item.partition("=")
        if kind not in MIX:
            raise SystemExit(f"CSCFLOW_BENCH_MIX: {kind!r} is not one of {', '.join(MIX)}")
        MIX[kind] = float(weight)
    proc = None
    if not url:
        if not (Path(ws) / "cscflow.duckdb").is_file():
            print(f"no workspace at {ws} (build the demo county with ./run demo --no-serve); skipped")
            return
        t0 = time.perf_counter()
        proc, url = _start(ws)
        print(f"cscflow serve {ws} answered /api/map after {time.perf_counter() - t0:.1f} s")
    try:
        plan = _plan(url, seed)
        pace = f"each pausing ~{THINK_MS} ms between answers" if THINK_MS else "each asking again at once (closed loop)"
        print(f"{clients} clients ({pace}), {seconds:.0f} s, mix {MIX}; {len(plan.dates)} dates, {len(plan.cohorts)} cohorts, "
              f"{plan.n_children:,} children; load average {os.getloadavg()[0]:.1f} before")
        use_wrk = os.environ.get("CSCFLOW_BENCH_GENERATOR", "wrk" if shutil.which("wrk") else "python") == "wrk"
        print(f"  load generator: {'wrk (C, 2 threads)' if use_wrk else 'this process (asyncio + httpx)'}")
        if warmup:
            if use_wrk:
                w = _wrk(url, clients, warmup, seed + 1, plan)
                print(f"  warm-up (not counted): {w['requests']:,} requests in {w['seconds']:.1f} s")
            else:
                rows, took = asyncio.run(_load(url, clients, warmup, seed + 1, plan))
                print(f"  warm-up (not counted): {len(rows):,} requests in {took:.1f} s")
        page = PlayingPage(url) if os.environ.get("CSCFLOW_BENCH_FRAMES", "1") != "0" else None
        if page is not None:
            _print_frames("no other client (baseline)", page.frames(FRAME_SECONDS))
        cpu0, srv0 = _own_cpu(), _server_cpu(proc)
        result: dict[str, Any] = {}

        def run_load() -> None:
            if use_wrk:
                import resource

                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                result["wrk"] = _wrk(url, clients, seconds, seed, plan)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                result["cpu"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            else:
                result["rows"], result["took"] = asyncio.run(_load(url, clients, seconds, seed, plan))

        import threading

        loader = threading.Thread(target=run_load)
        loader.start()
        during = None
        if page is not None:
            time.sleep(min(5.0, seconds / 4))
            during = page.frames(min(FRAME_SECONDS, max(1.0, seconds - 10)))
        loader.join()
        if use_wrk:
            w = result["wrk"]
            _report_wrk(w, clients)
            took, n, cpu = w["seconds"], w["requests"], result["cpu"]
        else:
            rows, took = result["rows"], result["took"]
            report(rows, took, clients)
            n = len(rows)
            cpu = _own_cpu() - cpu0
        if page is not None and during is not None:
            _print_frames(f"during the load ({clients} clients)", during)
            _print_frames("after the load", page.frames(FRAME_SECONDS))
            page.close()
        srv = _server_cpu(proc) - srv0
        print(f"  CPU in the run: load generator {cpu:.1f} s ({cpu / took:.0%} of a core), server "
              + (f"{srv:.1f} s ({srv / took:.0%} of a core, {srv / max(n, 1) * 1000:.1f} ms a request)"
                 if proc is not None else "not measured (CSCFLOW_BENCH_URL)"))
        print(f"  load average after: {' / '.join(f'{x:.1f}' for x in os.getloadavg())} (1 / 5 / 15 min; "
              f"{os.cpu_count()} cores, load generator and server on the same machine)")
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    main()
