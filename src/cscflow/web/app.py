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

from cscflow.errors import CscflowError, WorkspaceError
from cscflow.web.security import SecurityMiddleware

if TYPE_CHECKING:
    from cscflow.journeys.maps import ProcessMap
    from cscflow.workspace.protocol import WorkspaceLike

STATIC = Path(__file__).parent / "static"
T = TypeVar("T")


class WebState:
    """What the API serves from: one read-only workspace, one process map, a lock and a small cache.

    DuckDB connections are not safe across threads, so every engine call holds ``lock``.
    """

    def __init__(self, workspace: WorkspaceLike | str | Path, map: str = "england", cache_size: int = 24) -> None:
        if isinstance(workspace, str | Path):
            from cscflow import Workspace

            path = Path(workspace)
            if not (path / "cscflow.duckdb").exists():
                raise WorkspaceError(f"no workspace at {path}",
                                     hint="create one with `cscflow load` or `cscflow demo`")
            workspace = Workspace(path, read_only=True)
            self._owned = True
        else:
            self._owned = False  # the caller's workspace: the caller closes it
        self.workspace_path = workspace.path
        self.map_name = map
        self.ws = workspace
        self.lock = threading.RLock()
        self._cache: OrderedDict[Any, Any] = OrderedDict()
        self._cache_size = cache_size
        self._pmap: ProcessMap | None = None

    @property
    def pmap(self) -> ProcessMap:
        """The process map (loaded on first use; ``"auto"`` builds it from the workspace's data)."""
        if self._pmap is None:
            from cscflow.journeys import load_map

            with self.lock:
                self._pmap = load_map(self.map_name, self.ws)
        return self._pmap

    def cached(self, key: Any, compute: Callable[[], T]) -> T:
        """``compute()`` under the engine lock, remembered by ``key`` (least recently used dropped)."""
        with self.lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                hit: T = self._cache[key]
                return hit
            value = compute()
            self._cache[key] = value
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
            return value

    def close(self) -> None:
        """Close the workspace when the app opened it (a folder was given)."""
        with self.lock:
            if self._owned:
                self.ws.close()


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
    app.add_middleware(SecurityMiddleware, token=token, allowed_hosts=allowed_hosts)
    return app


def _routers() -> list[Any]:
    """The ``router`` of every module in :mod:`cscflow.web.api` (a test checks that none is left out)."""
    from cscflow.web.api import children, flow, linkage, map, practices, stations, stats, tracks

    return [m.router for m in (children, flow, map, stations, stats, tracks, linkage, practices)]


def _plotly_js() -> Path:
    import plotly

    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not path.exists():  # pragma: no cover - depends on the installed plotly
        raise CscflowError("plotly.min.js not found in the installed plotly package", hint="pip install plotly")
    return path
