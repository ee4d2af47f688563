import stat

import pandas as pd

from cscflow import Workspace
from cscflow.workspace.pseudonym import PSEUDONYM_LENGTH, pseudonym, pseudonymise


def test_same_id_and_key_give_same_pseudonym():
    key = b"k" * 32
    assert pseudonym(key, "C1001", "886") == pseudonym(key, " c1001 ", "886")
    assert len(pseudonym(key, "C1001", "886")) == PSEUDONYM_LENGTH


def test_different_key_or_la_gives_different_pseudonym():
    assert pseudonym(b"a" * 32, "C1001", "886") != pseudonym(b"b" * 32, "C1001", "886")
    assert pseudonym(b"a" * 32, "C1001", "886") != pseudonym(b"a" * 32, "C1001", "887")


def test_vectorised_matches_scalar_and_keeps_missing():
    key = b"z" * 32
    out = pseudonymise(key, ["A", "B", "A", None, ""], "886")
    assert out[0] == out[2] == pseudonym(key, "A", "886")
    assert out[1] == pseudonym(key, "B", "886")
    assert out[3] is None and out[4] is None


def test_workspace_key_is_private_and_stable(tmp_path):
    ws = Workspace(tmp_path / "w", la="886")
    mode = stat.S_IMODE((tmp_path / "w" / "key").stat().st_mode)
    assert mode == 0o600
    first = ws.pseudonymise(["X1"])[0]
    ws.close()
    again = Workspace(tmp_path / "w")
    assert again.pseudonymise(["X1"])[0] == first
    again.close()
    other = Workspace(tmp_path / "other", la="886")
    assert other.pseudonymise(["X1"])[0] != first


def test_no_original_id_in_children_or_episodes(workspace):
    ids = ["LA-000123", "LA-000456"]
    pseud = workspace.pseudonymise(ids)
    workspace.write("children", pd.DataFrame({"child_id": pseud, "la": "886", "sex": ["F", "M"]}))
    workspace.write(
        "episodes",
        pd.DataFrame(
            {"episode_id": ["e1", "e2"], "child_id": pseud, "stage": "referral",
             "start": pd.to_datetime(["2020-01-01", "2020-02-01"])}
        ),
    )
    for table in ("children", "episodes"):
        text = workspace.execute(workspace.table(table)).to_csv()
        assert not any(i in text for i in ids)
        assert all(p in text for p in pseud)
