"""``/api/report`` and ``/api/video``: the board report (:mod:`cscflow.report`) and the map's video
(:mod:`cscflow.report.video`) of the served workspace as downloads, the same files ``cscflow report`` and ``cscflow
video`` write, for the period (``start``, ``end``), map date (``date``), speed and cohort asked for."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from cscflow.web.api import bad, cohort, parse_date, state

router = APIRouter(prefix="/api", tags=["report"])


@router.get("/report")
def get_report(
    request: Request,
    start: str | None = Query(None, max_length=10),
    end: str | None = Query(None, max_length=10),
    date: str | None = Query(None, max_length=10),
) -> Response:
    """The self-contained HTML report (every count through disclosure control) as an attachment."""
    from cscflow.report import Options, report_html

    where = cohort(request, {"start", "end", "date"})
    st = state(request)
    first, last, day = parse_date(start, "start"), parse_date(end, "end"), parse_date(date, "date")
    opts = Options(first.isoformat() if first else None, last.isoformat() if last else None, where,
                   dates=(day.isoformat(),) if day else (), map_name=st.map_name)
    with st.lock:
        body = report_html(st.ws, opts)
    return Response(body, media_type="text/html; charset=utf-8",
                    headers={"content-disposition": 'attachment; filename="cscflow-report.html"'})


#: frames a video from the web app may have (two minutes at 30 frames a second: the request stays bounded)
WEB_MAX_FRAMES = 3600


@router.get("/video")
def get_video(
    request: Request,
    start: str | None = Query(None, max_length=10),
    end: str | None = Query(None, max_length=10),
    days_per_second: float = Query(30.0, gt=0, le=3650),
    fps: int = Query(30, ge=1, le=60),
    size: str = Query("1280x720", max_length=9),
    convention: str = Query("travel", max_length=20),
) -> Response:
    """The map's animation from ``start`` to ``end`` as an MP4 (H.264) attachment, station counts disclosed."""
    import tempfile
    from pathlib import Path

    from starlette.background import BackgroundTask
    from starlette.responses import FileResponse

    from cscflow.report.video import Scene, VideoOptions, check, encode, parse_size

    where = cohort(request, {"start", "end", "days_per_second", "fps", "size", "convention"})
    if convention not in ("travel", "queue"):
        raise bad(f"convention={convention!r} is not one of travel, queue")
    st = state(request)
    first, last = parse_date(start, "start"), parse_date(end, "end")
    opts = VideoOptions(first.isoformat() if first else None, last.isoformat() if last else None, fps,
                        days_per_second, parse_size(size), where, st.map_name, convention)
    check(opts)
    with st.lock:
        scene = Scene(st.ws, opts)
    if len(scene.times()) > WEB_MAX_FRAMES:
        raise bad(f"the video would have {len(scene.times()):,} frames (at most {WEB_MAX_FRAMES:,} here): shorten "
                  "the period or raise the speed")
    folder = Path(tempfile.mkdtemp(prefix="cscflow-video-"))
    path = encode(scene, folder / "cscflow-map.mp4").path

    def clean() -> None:
        path.unlink(missing_ok=True)
        folder.rmdir()

    return FileResponse(path, media_type="video/mp4", filename="cscflow-map.mp4", background=BackgroundTask(clean))
