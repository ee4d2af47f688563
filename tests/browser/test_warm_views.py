"""After the map is ready, `cscflow serve` asks the running server what the other views ask first, so their
first users find it computed (kept by the same answer cache a browser's request fills)."""

from __future__ import annotations

from browser_kit import Server

from cscflow.web import WARM_VIEWS, _warm_views, create_app


def test_the_warm_up_leaves_each_first_view_kept(small_workspace):
    app = create_app(small_workspace)  # a server of its own: the session's has answered other tests
    with Server(app) as server:
        try:
            _check(server, app.state.cscflow)
        finally:
            app.state.cscflow.close()


def _check(server, state) -> None:
    def kept(path: str, query: bytes = b"") -> bool:
        return bool(state.peek(("answer", path, query))[0])

    assert not any(kept(p) for p in WARM_VIEWS[1:]), "nothing asked yet"
    _warm_views(server.url, None)
    missing = [p for p in WARM_VIEWS if not kept(p)]
    # what is not kept is what this small workspace cannot answer (its user is told why when asking)
    import httpx

    answered = [p for p in missing if httpx.get(server.url + p, timeout=120).status_code == 200]
    assert not answered, f"answered but not kept by the warm-up: {answered}"
    assert len(missing) < len(WARM_VIEWS) // 2
    with state._cache_lock:
        answers = [k[1] for k in state._cache if k[1][0] == "answer"]
    assert any(a[1].startswith("/api/stations/") and a[2].startswith(b"date=") for a in answers), \
        "a station's panel on the window's first day"
