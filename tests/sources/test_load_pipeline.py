"""A load reads as a pipeline: `cscflow.sources.load` calls each stage module once, in order."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from cscflow.sources import load
from cscflow.workspace import Workspace

STAGES = ["read", "identity", "pseudonymise", "staging", "stays", "children", "dated", "report"]
#: The package (``cscflow.sources.load`` the attribute is the function users call; the package is the module).
pipeline = importlib.import_module("cscflow.sources.load")
PACKAGE = Path(pipeline.__file__).parent


def stage_calls(run) -> list[str]:
    """The stage modules the pipeline module itself calls into, in call order (a real load, traced)."""
    calls: list[str] = []

    def profile(frame, event, arg):
        if event != "call" or frame.f_back is None:
            return
        caller, callee = Path(frame.f_back.f_code.co_filename), Path(frame.f_code.co_filename)
        if caller == PACKAGE / "__init__.py" and callee.parent == PACKAGE and callee.name != "__init__.py":
            calls.append(callee.stem)

    sys.setprofile(profile)
    try:
        run()
    finally:
        sys.setprofile(None)
    return calls


def test_each_stage_is_called_once_in_order(tmp_path):
    log = tmp_path / "log.csv"
    log.write_text("child_id,stage,start\nC1,referral,2020-01-02\nC1,assessment,2020-01-03\nC2,referral,2020-02-01\n")
    with Workspace(tmp_path / "ws", la="886") as ws:
        calls = stage_calls(lambda: load(ws, [log]))
        assert ws.count("episodes") == 3 and ws.count("children") == 2
    internal = [c for c in calls if c != "internal"]  # creating the internal tables is not a stage
    assert internal == STAGES


def test_the_public_paths_still_work():
    import cscflow.sources

    assert cscflow.sources.load is load and callable(load)
    assert pipeline.load is load
