"""The local web app: the dynamic tube map of children's journeys and the flow-table pages.

``create_app`` builds the FastAPI app (nothing is started on import); ``serve`` runs
it with uvicorn and is called only by ``cscflow serve`` / ``cscflow demo``.

>>> from cscflow.web import create_app, serve
>>> callable(create_app) and callable(serve)
True
"""

from __future__ import annotations

import gc
import threading
import webbrowser
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from cscflow.web.app import create_app
from cscflow.web.security import check_bind, is_loopback

__all__ = ["create_app", "serve"]


def serve(
    workspace_path: str | Path,
    map: str = "england",
    host: str = "127.0.0.1",
    port: int = 8765,
    token: str | None = None,
    open_browser: bool = False,
    warm: bool = True,
) -> None:
    """Serve the app on ``host:port`` until interrupted (a token is required off loopback)."""
    import uvicorn

    check_bind(host, token)
    if warm:
        _store_timeline(workspace_path)
    app = create_app(workspace_path, map=map, token=token, allowed_hosts=None if is_loopback(host) else ["*"])
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/"
    if token:
        url += f"?token={token}"
    then = (lambda: webbrowser.open(url)) if open_browser else None
    if warm:  # compute the default tracks while the server starts, so the first page is quick; open it after
        name = "127.0.0.1" if host in ("0.0.0.0", "::") else f"[{host}]" if ":" in host else host
        base = f"http://{name}:{port}"
        threading.Thread(target=_warm, args=(app, then, base, token), daemon=True).start()
    elif then:
        threading.Timer(1.0, then).start()
    click.echo(f"cscflow: serving {workspace_path} on {url} (Ctrl+C to stop)")
    # the libraries and the app, loaded once, are never garbage: frozen, the collector's passes while requests
    # are answered skip them (cscflow.cli.startup)
    gc.freeze()
    uvicorn.run(app, host=host, port=port, log_level="warning")


def _store_timeline(workspace_path: str | Path) -> None:
    """Store the England map's timeline in the workspace when it is not there yet (a workspace loaded by an
    older cscflow), so that this and every later start reads it; skipped when the workspace cannot be opened
    for writing (another process has it open)."""
    from cscflow.journeys.timeline import prepare
    from cscflow.workspace import Workspace
    from cscflow.workspace.workspace import DB_FILE

    if not (Path(workspace_path) / DB_FILE).is_file():  # not a workspace: create_app says so
        return
    try:
        with Workspace(workspace_path) as ws:
            prepare(ws)
    except Exception:  # noqa: BLE001 - best effort: the app builds the timeline in memory instead
        pass


def _warm(app: Any, then: Callable[[], object] | None = None, base: str | None = None,
          token: str | None = None) -> None:
    """Build the default tracks and stays (what the first page asks for), then run ``then`` (open the browser),
    then ask the server what the other views ask first (:func:`_warm_views`)."""
    import time

    from cscflow.web.api.tracks import engine_tracks, stays_blob

    st = app.state.cscflow
    t0 = time.perf_counter()
    try:
        engine_tracks(st, "travel", None)
        stays_blob(st, None)
        click.echo(f"cscflow: the map is ready ({time.perf_counter() - t0:.1f} s)")
    except Exception:  # noqa: BLE001 - warming is best effort; requests report errors themselves
        pass
    if then or base:
        time.sleep(0.3)  # the server is listening by now (uvicorn starts in well under the warm-up)
    if then:
        then()
    if base:
        _warm_views(base, token)


#: What the other views ask first, asked once after the map is ready so that the first user of each finds it
#: computed: a child's journey (every child's rows are fetched for the first), a station's panel, the
#: Analytics page's flow tables and the Statistics page's analyses (for everyone: cohorts are computed when
#: asked).
WARM_VIEWS = ("/api/children/0", "/api/flow/stations", "/api/flow/conversion", "/api/flow/durations",
              "/api/flow/dfg", "/api/flow/rereferrals", "/api/flow/nfa_by_prior", "/api/flow/s47_outcomes",
              "/api/stats/rereferral", "/api/stats/referral-to-cp", "/api/stats/funnel", "/api/stats/leaving-care",
              "/api/stats/incidence")


def _warm_views(base: str, token: str | None) -> None:
    """GET each of :data:`WARM_VIEWS` (and a station's panel) from the running server, one at a time, through
    the same path as a browser's request, so what is kept is what users are then given. Best effort."""
    import json
    import urllib.request

    headers = {"Accept-Encoding": "gzip"} | ({"Authorization": f"Bearer {token}"} if token else {})

    def get(path: str) -> bytes:
        with urllib.request.urlopen(urllib.request.Request(base + path, headers=headers), timeout=600) as r:
            return bytes(r.read())

    try:
        info = json.loads(get("/api/map"))
        paths = list(WARM_VIEWS)
        if info.get("stations") and info.get("window"):
            paths.insert(1, f"/api/stations/{info['stations'][0]['id']}?date={info['window'][0]}")
    except Exception:  # noqa: BLE001 - best effort: not served, or the map has no stations
        return
    for path in paths:
        try:
            get(path)
        except Exception:  # noqa: BLE001 - a view the workspace cannot answer says so to its user when asked
            continue
