"""Animation tracks: legs follow each child's timeline in both conventions; the binary layout."""

from __future__ import annotations

import struct

import numpy as np
import pandas as pd
import pytest
from jdata import episodes_frame, random_episodes

from cscflow.journeys import Tracks, load_map, timelines, tracks
from cscflow.journeys.timeline import data_end, data_start
from cscflow.journeys.tracks import OUTSIDE


def _kids(df):
    ids = sorted(df.child_id.unique())
    return pd.DataFrame({
        "child_id": ids,
        "sex": [["F", "M", None][i % 3] for i in range(len(ids))],
        "ethnicity": [["WBRI", "BAFR", "MWBC", "REFU"][i % 4] for i in range(len(ids))],
        "birth_month": [pd.Timestamp("2010-01-01") + pd.DateOffset(months=7 * i) for i in range(len(ids))],
        "disability": [i % 2 == 0 for i in range(len(ids))],
        "uasc": [False] * len(ids),
    })


@pytest.mark.parametrize("convention", ["travel", "queue"])
def test_legs_follow_the_timeline(write_episodes, convention):
    df = random_episodes(11, 30)
    ws = write_episodes(df, _kids(df))
    pmap = load_map("england")
    tr = tracks(ws, pmap, convention)
    tl = ws.execute(timelines(ws, pmap)).sort_values(["child_id", "seq"])
    epoch = data_start(ws).normalize()
    end_day = (data_end(ws) - epoch) / pd.Timedelta(days=1)
    assert tr.n_children == tl.child_id.nunique() and list(tr.child_ids) == sorted(tl.child_id.unique())
    assert (tr.arrive >= tr.depart).all()
    ids = pmap.station_ids
    for ci, child in enumerate(tr.child_ids):
        legs = np.nonzero(tr.child == ci)[0]
        rows = tl[tl.child_id == child].reset_index(drop=True)
        # every row is reached by exactly one leg, in order
        arrivals = [i for i in legs if tr.to[i] != OUTSIDE]
        assert [ids[tr.to[i]] for i in arrivals] == rows.station.tolist()
        start = ((rows.start - epoch) / pd.Timedelta(days=1)).to_numpy()
        end = ((rows.end.fillna(data_end(ws)) - epoch) / pd.Timedelta(days=1)).to_numpy()
        if convention == "travel":
            assert np.allclose(tr.depart[arrivals], start) and np.allclose(tr.arrive[arrivals], end)
        else:
            assert np.allclose(tr.arrive[arrivals], start)
        # leaving legs: after each exit row, and after a last stay that ended
        leaving = [i for i in legs if tr.to[i] == OUTSIDE]
        expected = (rows.kind == "exit").sum() + int(rows.kind.iloc[-1] != "exit" and pd.notna(rows.end.iloc[-1]))
        assert len(leaving) == expected
        # a dot enters from outside first and after every exit
        entering = [i for i in legs if tr.from_[i] == OUTSIDE]
        assert len(entering) == 1 + (rows.kind.iloc[:-1] == "exit").sum()
        assert np.all(tr.repeat[arrivals] == np.minimum(rows.repeat.to_numpy(), 255))
    assert float(tr.arrive.max()) <= end_day + 1e-3


def test_binary_layout_round_trips(write_episodes):
    df = random_episodes(12, 15)
    ws = write_episodes(df, _kids(df))
    tr = tracks(ws, "england", "travel")
    blob = tr.to_bytes()
    (n,) = struct.unpack("<I", blob[:4])
    head = Tracks.read_header(blob)
    assert n == len(blob[4:4 + n]) and head["version"] == 1
    assert head["n_legs"] == tr.n_legs and head["n_children"] == tr.n_children
    assert head["epoch"] == tr.epoch.isoformat() and head["convention"] == "travel"
    assert [s["id"] for s in head["stations"]] == load_map("england").station_ids
    assert set(head["attributes"]) == {"sex", "ethnicity", "age_band", "disability", "uasc", "team"}
    assert "child_id" not in blob.decode("latin-1")  # ids are never in the blob
    arrays = Tracks.read_arrays(blob)
    for spec in head["arrays"]:
        assert spec["offset"] % 8 == 0 and spec["offset"] >= 4 + n
    assert np.array_equal(arrays["child"], tr.child) and arrays["from"].dtype == np.uint16
    assert np.array_equal(arrays["depart"], tr.depart) and arrays["arrive"].dtype == np.float32
    # per-child codes decode to the children's attributes
    kids = _kids(df).set_index("child_id").loc[tr.child_ids]
    sex = [head["attributes"]["sex"][c] for c in arrays["child_code_sex"]]
    assert sex == [s if s else "U" for s in kids.sex]
    eth = [head["attributes"]["ethnicity"][c] for c in arrays["child_code_ethnicity"]]
    assert eth == [{"W": "White", "B": "Black", "M": "Mixed", "R": "Unknown"}[e[0]] for e in kids.ethnicity]


def test_zero_length_steps_move_the_dot(write_episodes):
    ws = write_episodes(episodes_frame([
        ("c1", "contact", "2024-03-01", "2024-03-01", "referral", None),
        ("c1", "referral", "2024-03-01", "2024-03-04", "nfa", "n1"),
    ]))
    tr = tracks(ws, "england", "travel")
    m = load_map("england")
    path = [(m.station_ids[a] if a != OUTSIDE else None, m.station_ids[b] if b != OUTSIDE else None)
            for a, b in zip(tr.from_, tr.to, strict=True)]
    assert path == [(None, "contact"), ("contact", "referral"), ("referral", "nfa"), ("nfa", None)]
    assert tr.depart.tolist() == [0, 0, 3, 3] and tr.arrive.tolist() == [0, 3, 3, 3]
    q = tracks(ws, "england", "queue")
    assert q.depart.tolist() == [0, 0, 3, 3] and q.arrive.tolist() == [0, 0, 3, 3]


def test_a_child_cohort_shows_only_its_own_teams(write_episodes):
    """Team labels of a cohort's tracks are the teams of the cohort's rows: a team only boys were seen by is
    not offered when the map shows girls, and the girls' team codes point at their own labels."""
    from cscflow.journeys.track_rows import cohort_rows
    from cscflow.journeys.tracks import _legs

    rows = [("b1", "referral", "2024-01-02", "2024-01-09", "nfa", "n1", "East"),
            ("g1", "referral", "2024-01-03", "2024-01-20", None, "n2", "West"),
            ("g2", "referral", "2024-01-04", "2024-01-05", "nfa", "n3", "West"),
            ("b2", "referral", "2024-01-05", "2024-01-06", "nfa", "n4", "Zeta")]
    kids = pd.DataFrame({"child_id": ["b1", "g1", "g2", "b2"], "sex": ["M", "F", "F", "M"]})
    ws = write_episodes(episodes_frame(rows), kids)
    pmap = load_map("england")
    everyone = tracks(ws, pmap)
    girls = tracks(ws, pmap, where={"sex": "F"})
    assert everyone.attributes["team"][:-1] == ["East", "West", "Zeta"]
    assert girls.attributes["team"] == ["West", "Unknown"] and girls.codes["team"].tolist() == [0, 0]
    assert girls.to_bytes() == _legs(cohort_rows(ws, pmap, {"sex": "F"}), pmap, "travel").to_bytes()


def _doc_example() -> bytes:
    """The worked example of docs/contracts.md ("Binary blobs"), read from its hex dump."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "contracts.md").read_text(encoding="utf-8")
    dump = text.split("is these 248 bytes", 1)[1].split("```", 2)[1]
    return bytes(int(x, 16) for line in dump.strip().splitlines() for x in line.split()[1:])


def _read_by_the_doc(blob: bytes) -> tuple[dict, dict[str, list]]:
    """A reader written from docs/contracts.md alone: uint32 N, JSON header, zero padding to a multiple of 8,
    arrays at their offsets (multiples of 8), each padded with zeros to the next multiple of 8."""
    import json

    n = int.from_bytes(blob[:4], "little")
    header = json.loads(blob[4:4 + n].decode("utf-8"))
    a = (4 + n + 7) // 8 * 8
    assert set(blob[4 + n:a]) <= {0}
    fmt = {"uint8": "B", "int8": "b", "uint16": "H", "int16": "h", "uint32": "I", "int32": "i", "float32": "f",
           "float64": "d"}
    arrays, at = {}, a
    for spec in header["arrays"]:
        assert spec["offset"] == at and at % 8 == 0
        size = struct.calcsize(fmt[spec["dtype"]]) * spec["length"]
        arrays[spec["name"]] = list(struct.unpack_from(f"<{spec['length']}{fmt[spec['dtype']]}", blob, at))
        end = (at + size + 7) // 8 * 8
        assert set(blob[at + size:end]) <= {0}
        at = end
    assert len(blob) == at
    return header, arrays


def test_the_packer_writes_the_documented_layout_byte_by_byte():
    from cscflow.journeys.tracks import pack_blob, read_blob

    arrays = {"child": np.array([0, 1], dtype="uint32"), "to": np.array([3, 65535], dtype="uint16"),
              "depart": np.array([0.5], dtype="float32")}
    blob = pack_blob({"version": 1, "kind": "example"}, arrays)
    assert blob == _doc_example()
    header, parsed = _read_by_the_doc(blob)
    assert header["kind"] == "example" and parsed == {"child": [0, 1], "to": [3, 65535], "depart": [0.5]}
    head, mine = read_blob(blob)
    assert head == header and {k: v.tolist() for k, v in mine.items()} == parsed


def test_a_tracks_blob_parses_by_the_documented_layout(write_episodes):
    df = random_episodes(13, 12)
    ws = write_episodes(df, _kids(df))
    tr = tracks(ws, "england", "queue")
    header, arrays = _read_by_the_doc(tr.to_bytes())
    assert [s["name"] for s in header["arrays"]][:6] == ["child", "from", "to", "depart", "arrive", "repeat"]
    assert arrays["from"] == tr.from_.tolist() and arrays["arrive"] == tr.arrive.tolist()
    assert len(arrays["child_code_sex"]) == header["n_children"] == tr.n_children
