"""Browser fixtures: the app served by uvicorn in a thread, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from browser_kit import ARTIFACTS, Server, free_port, screenshot, wait_for  # noqa: E402,F401  (re-exported for bench/)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--ignore-gpu-blocklist",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
    "--disable-extensions",
    "--metrics-recording-only",
]


@pytest.fixture(scope="session")
def small_workspace(tmp_path_factory) -> Path:
    import small_county

    return small_county.build(tmp_path_factory.mktemp("web") / "ws")


@pytest.fixture(scope="session")
def server(small_workspace):
    from cscflow.web import create_app

    app = create_app(small_workspace)
    with Server(app) as srv:
        srv.app = app
        yield srv
    app.state.cscflow.close()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 860})
    pg = context.new_page()
    pg.requests_seen = []
    pg.console_errors = []
    pg.on("request", lambda r: pg.requests_seen.append(r.url))
    pg.on("console", lambda m: m.type == "error" and pg.console_errors.append(m.text))
    pg.on("pageerror", lambda e: pg.console_errors.append(str(e)))
    pg.on("console", lambda m: m.text.startswith("CSP-VIOLATION") and pg.csp_violations.append(m.text.split("|")[1:]))
    pg.csp_violations = []
    # Runs outside the page's CSP (injected by the driver): reports every violation with its source.
    pg.add_init_script("document.addEventListener('securitypolicyviolation', e => console.log("
                       "['CSP-VIOLATION', e.violatedDirective, e.sourceFile, e.sample].join('|')))")
    yield pg
    context.close()
