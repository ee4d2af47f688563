import pandas as pd
import pytest

from cscflow import Workspace
from cscflow.errors import WorkspaceError
from cscflow.model import SCHEMAS


def test_new_workspace_has_every_canonical_table_empty(workspace):
    for name, schema in SCHEMAS.items():
        t = workspace.table(name)
        assert list(t.columns) == list(schema.names)
        assert workspace.count(name) == 0
    assert (workspace.path / "cscflow.duckdb").exists()


def test_write_fills_missing_columns_and_casts(workspace):
    n = workspace.write(
        "events", pd.DataFrame({"event_id": ["i1"], "date": ["2016-06-13"], "label": ["Ofsted inspection"]})
    )
    assert n == 1
    got = workspace.execute(workspace.table("events"))
    assert got.loc[0, "kind"] is None and str(pd.Timestamp(got.loc[0, "date"]).date()) == "2016-06-13"


def test_write_refuses_unknown_columns_with_hint(workspace):
    with pytest.raises(WorkspaceError, match="no column") as err:
        workspace.write("events", pd.DataFrame({"event_id": ["x"], "colour": ["red"]}))
    assert "attrs" in err.value.hint


def test_replace_and_delete(workspace):
    frame = pd.DataFrame({"event_id": ["a", "b", "c"], "kind": ["x", "y", None]})
    workspace.write("events", frame)
    workspace.write("events", frame)
    assert workspace.count("events") == 6
    workspace.write("events", frame, mode="replace")
    assert workspace.count("events") == 3
    workspace.delete("events", {"kind": "x"})
    assert sorted(workspace.execute(workspace.table("events")).event_id) == ["b", "c"]


def test_workspace_remembers_its_la_and_refuses_another(tmp_path):
    Workspace(tmp_path / "w", la="886").close()
    ws = Workspace(tmp_path / "w")
    assert ws.la == "886"
    ws.close()
    with pytest.raises(WorkspaceError, match="holds LA 886"):
        Workspace(tmp_path / "w", la="999")


def test_read_only_needs_an_existing_workspace(tmp_path):
    with pytest.raises(WorkspaceError, match="no workspace"):
        Workspace(tmp_path / "none", read_only=True)


def test_a_file_is_not_a_workspace(tmp_path):
    f = tmp_path / "f.txt"
    f.write_text("x")
    with pytest.raises(WorkspaceError, match="is a file"):
        Workspace(f)
