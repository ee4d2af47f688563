"""Screenshots of the synthetic county's map at three dates, with both renderers, for docs/img/ (small PNGs):
``map_{webgl,canvas}_{1-start,2-middle,3-end}.png``, the first day of the observation window, its middle and its
last month.

Run: ``.venv/bin/python -m bench.map_screenshots [WORKSPACE]`` (default: the demo county's workspace,
``demo-county/workspace``, built by ``cscflow demo --no-serve`` when missing). Headless Debian Chromium;
the pictures are the map's stage (no side panel), 1,070 px wide, reduced to 64 colours.
"""

from __future__ import annotations

import io
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
OUT = ROOT / "docs" / "img"
RENDERERS = {"webgl": "", "canvas": "&renderer=canvas"}


def dates(span: list[str], window: list[str]) -> list[str]:
    """The window's first day, its middle and its last month."""
    import datetime as dt

    a, z = (dt.date.fromisoformat(d) for d in window)
    return [a.isoformat(), (a + (z - a) / 2).isoformat(), (z - dt.timedelta(days=30)).isoformat()]


def main(workspace: str | None = None) -> None:
    from browser_kit import wait_for
    from PIL import Image
    from playwright.sync_api import sync_playwright

    from conftest import CHROMIUM, CHROMIUM_ARGS, Server
    from cscflow.web import create_app

    ws = Path(workspace) if workspace else ROOT / "demo-county" / "workspace"
    if not (ws / "cscflow.duckdb").exists():
        subprocess.run([sys.executable, "-m", "cscflow", "demo", "--no-serve", "--out", str(ws.parent)], check=True)
    OUT.mkdir(parents=True, exist_ok=True)
    app = create_app(ws)
    with Server(app) as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 860}, locale="en-GB", reduced_motion="reduce")
        page = context.new_page()
        page.goto(f"{server.url}/")
        wait_for(page, "window.cscflow && window.cscflow.ready", timeout=600)
        days = dates(page.evaluate("cscflow.span"), page.evaluate("cscflow.window"))
        for name, query in RENDERERS.items():
            for label, day in zip(("1-start", "2-middle", "3-end"), days, strict=True):
                page.goto(f"{server.url}/?date={day}{query}")
                wait_for(page, f"window.cscflow && window.cscflow.ready && cscflow.date === '{day}'", timeout=600)
                time.sleep(0.5)
                box = page.eval_on_selector("#stage", "e => { const b = e.getBoundingClientRect(); "
                                                      "return {x: b.x, y: b.y, width: b.width, height: b.height}; }")
                img = Image.open(io.BytesIO(page.screenshot(clip=box))).convert("RGB")
                path = OUT / f"map_{name}_{label}.png"
                img.quantize(colors=64, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
                print(f"  {path.relative_to(ROOT)}: {day}, {page.evaluate('cscflow.dotsDrawn'):,} dots, "
                      f"{path.stat().st_size / 1024:.0f} kB", flush=True)
        context.close()
        browser.close()
    app.state.cscflow.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
