"""Fixtures for the journeys tests."""

from __future__ import annotations

import pandas as pd
import pytest
from jdata import episodes_frame


@pytest.fixture
def write_episodes(workspace):
    """write_episodes(rows_or_frame, children=None) -> the workspace with those episodes."""

    def write(rows, children: pd.DataFrame | None = None):
        df = rows if isinstance(rows, pd.DataFrame) else episodes_frame(rows)
        workspace.write("episodes", df, mode="replace")
        if children is not None:
            workspace.write("children", children, mode="replace")
        return workspace

    return write
