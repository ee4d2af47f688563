"""The engine stays behind the Workspace: no code outside cscflow/workspace reaches for the engine's
connection or branches on the engine's name (the test fails on the first such line, naming it)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import cscflow

SRC = Path(cscflow.__file__).parent
#: The engine's connection (``ws.con``, DuckDB's ``.con.con``, Spark's ``._session``) or a branch on its name.
PATTERNS = re.compile(r"\.con\.con\b|\._session\b|\.engine\s*[!=]=|\bws\.con\b|\.con\.raw_sql")


def leaks(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        if (root / "workspace") in path.parents:
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if PATTERNS.search(line):
                found.append(f"{path.relative_to(root)}:{n}: {line.strip()}")
    return found


def test_no_engine_leaks_out_of_the_workspace():
    assert leaks(SRC) == []


def test_the_check_finds_a_leak(tmp_path):
    (tmp_path / "workspace").mkdir()
    (tmp_path / "workspace" / "engine.py").write_text("x = ws.con.con\n")  # inside: allowed
    (tmp_path / "a.py").write_text("if ws.engine == 'duckdb':\n    ws.con.con.execute('x')\n")
    (tmp_path / "b.py").write_text("s = ws.con._session\n")
    assert [f.split(":")[0] + ":" + f.split(":")[1] for f in leaks(tmp_path)] == ["a.py:1", "a.py:2", "b.py:1"]


@pytest.mark.parametrize("line", ["con = self.con", "ws.table('x')", "engine_name = 'x'",
                                  "if engine == 'auto':  # an Excel reader's option, not the workspace's"])
def test_ordinary_lines_pass(tmp_path, line):
    (tmp_path / "c.py").write_text(line + "\n")
    assert leaks(tmp_path) == []
