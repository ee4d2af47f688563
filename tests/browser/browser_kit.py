"""Helpers for the browser tests and benchmarks (a module of its own: `conftest` names clash across test dirs)."""

from __future__ import annotations

import time
from pathlib import Path

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def wait_for(page, expression: str, timeout: float = 20.0, interval: float = 0.1):
    """Poll ``expression`` in the page until it is truthy (wait_for_function needs eval, which the CSP forbids)."""
    deadline = time.time() + timeout
    while True:
        value = page.evaluate(expression)
        if value:
            return value
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {expression!r}; cscflow.error = "
                                 f"{page.evaluate('window.cscflow && window.cscflow.error')}")
        time.sleep(interval)
