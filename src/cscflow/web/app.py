"""The FastAPI app of the dynamic map (no server is started here; see :func:`cscflow.web.serve`).

>>> import tempfile
>>> from cscflow import Workspace
>>> folder = tempfile.mkdtemp()
>>> Workspace(folder, la="886").close()
>>> app = create_app(folder)
>>> app.title
'cscflow'
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from cscflow.errors import CscflowError
from cscflow.web.answers import AnswerCache
from cscflow.web.security import SecurityMiddleware

if TYPE_CHECKING:
    from cscflow.journeys.maps import ProcessMap
    from cscflow.workspace.protocol import WorkspaceLike

STATIC = Path(__file__).parent / "static"
T = TypeVar("T")


class WebState:
    """What the API serves from: one workspace, one process map, the engine's lock and a cache.

    DuckDB connections are not safe across threads, so every engine call holds ``lock``. Answers are
    remembered by key and by the workspace's write generation (an app over a workspace the caller writes to
    never serves a stale answer): a hit is read under a lock of its own and never waits for the engine, so
    a team's requests for what is already computed are answered while another request computes.
    """

    def __init__(self, workspace: WorkspaceLike | str | Path, map: str = "england",
                 cache_bytes: int = 512 * 2**20) -> None:
        if isinstance(workspace, str | Path):
            from cscflow import Workspace

            path = Path(workspace)
            from cscflow.workspace.workspace import require_workspace

            require_workspace(path)
            workspace = Workspace(path, read_only=True)
            self._owned = True
        else:
            self._owned = False  # the caller's workspace: the caller closes it
        self.workspace_path = workspace.path
        self.map_name = map
        self.ws = workspace
        self.lock = threading.RLock()
        self._cache_lock = threading.Lock()
        self._cache: OrderedDict[Any, tuple[Any, int]] = OrderedDict()
        self._cache_bytes = cache_bytes
        self._held = 0
        self._pmap: ProcessMap | None = None

    @property
    def pmap(self) -> ProcessMap:
        """The process map (loaded on first use; ``"auto"`` builds it from the workspace's data)."""
        if self._pmap is None:
            from cscflow.journeys import load_map

            with self.lock:
                if self._pmap is None:
                    self._pmap = load_map(self.map_name, self.ws)
        return self._pmap

    def _get(self, key: Any) -> tuple[bool, Any]:
        with self._cache_lock:
            hit = self._cache.get(key)
            if hit is None:
                return False, None
            self._cache.move_to_end(key)
            return True, hit[0]

    def peek(self, key: Any) -> tuple[bool, Any]:
        """(True, the value) when ``key`` is held for the workspace's current generation, else (False, None)."""
        return self._get((self.ws.generation, key))

    def put(self, key: Any, value: Any) -> None:
        """Hold ``value`` for ``key`` and the workspace's current generation."""
        self._keep((self.ws.generation, key), value)

    def cached(self, key: Any, compute: Callable[[], T]) -> T:
        """``compute()`` under the engine lock, remembered by ``key`` and the workspace's generation (least
        recently used dropped beyond ``cache_bytes``). Requests for a key being computed wait for it (the
        engine lock) and then read it: each answer is computed once."""
        key = (self.ws.generation, key)
        found, value = self._get(key)
        if found:
            hit: T = value
            return hit
        with self.lock:
            found, value = self._get(key)  # computed while this request waited for the engine
            if found:
                done: T = value
                return done
            fresh = compute()
        self._keep(key, fresh)
        return fresh

    def _keep(self, key: Any, value: Any) -> None:
        size = _weight(value)
        with self._cache_lock:
            if key in self._cache:
                self._held -= self._cache[key][1]
            self._cache[key] = (value, size)
            self._held += size
            while self._held > self._cache_bytes and len(self._cache) > 1:
                _, (_, old) = self._cache.popitem(last=False)
                self._held -= old

    def close(self) -> None:
        """Close the workspace when the app opened it (a folder was given)."""
        with self.lock:
            if self._owned:
                self.ws.close()


def _weight(value: Any, depth: int = 0) -> int:
    """Rough bytes held by a cached value (blobs, frames and arrays by their size; anything else a few kB)."""
    if isinstance(value, bytes | bytearray | str):
        return len(value) + 64
    if isinstance(value, tuple | list) and depth < 2:
        return sum(_weight(v, depth + 1) for v in value[:64]) + 64 * max(0, len(value) - 64)
    nbytes = getattr(value, "nbytes", None)
    if isinstance(nbytes, int):
        return nbytes
    usage = getattr(value, "memory_usage", None)
    if callable(usage):
        try:
            return int(usage(index=True).sum())
        except Exception:  # noqa: BLE001 - not a frame after all
            pass
    return 4096


def create_app(
    workspace: WorkspaceLike | str | Path,
    map: str = "england",
    token: str | None = None,
    *,
    allowed_hosts: Iterable[str] | None = None,
) -> FastAPI:
    """The web app over ``workspace`` (on any engine: DuckDB or Spark) with process map ``map``.

    A folder path is opened read-only as a DuckDB workspace (what ``cscflow serve`` gives); a workspace
    object is served as it is and stays the caller's to close.

    ``token``: when set every request must carry it (401 otherwise). ``allowed_hosts``:
    Host names accepted besides the loopback ones (``"*"`` with a token: any).
    """
    state = WebState(workspace, map)
    app = FastAPI(title="cscflow", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.cscflow = state

    @app.exception_handler(CscflowError)
    async def _cscflow_error(request: Request, exc: CscflowError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("query", "path"))
            parts.append(f"{where}: {err.get('msg')}")
        return JSONResponse({"detail": "; ".join(parts) or "bad request"}, status_code=422)

    for router in _routers():
        app.include_router(router)

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"cache-control": "no-store"})

    @app.get("/vendor/plotly.min.js", include_in_schema=False)
    def plotly_js() -> Response:
        return FileResponse(_plotly_js(), media_type="text/javascript")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)

    app.mount("/static", StaticFiles(directory=STATIC, follow_symlink=False), name="static")
    app.add_middleware(AnswerCache, state=state)  # inside the security checks: they run on every request
    app.add_middleware(SecurityMiddleware, token=token, allowed_hosts=allowed_hosts)
    return app


def _routers() -> list[Any]:
    """The ``router`` of every module in :mod:`cscflow.web.api` (a test checks that none is left out)."""
    from cscflow.web.api import children, flow, linkage, map, practices, report, stations, stats, tracks
    from cscflow.web.api import forecast as forecast_api
    from cscflow.web.api import overdue as overdue_api
    from cscflow.web.api import simulated as simulated_api

    return [m.router for m in (children, flow, map, stations, stats, tracks, linkage, practices, overdue_api, report,
                               forecast_api, simulated_api)]


def _plotly_js() -> Path:
    import plotly

    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not path.exists():  # pragma: no cover - depends on the installed plotly
        raise CscflowError("plotly.min.js not found in the installed plotly package", hint="pip install plotly")
    return path
