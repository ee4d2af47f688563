"""A small deterministic workspace for the web tests: ~150 children through the front door and beyond.

Written straight into a DuckDB workspace (episodes, children, identifiers, events), so the web
tests do not depend on the simulator. The identifiers table holds made-up names and UPNs that the
tests then look for in every response (they must never appear).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

DATA_START = dt.date(2021, 4, 1)
DATA_END = dt.date(2024, 3, 31)
SURNAME = "Zebedeeson"
UPN = "Q999888777666"


def build(path: Path, n_children: int = 150, seed: int = 6) -> Path:
    """Create the workspace at ``path`` and return it."""
    from cscflow import Workspace

    rng = np.random.default_rng(seed)
    ws = Workspace(path, la="999")
    end_ts = pd.Timestamp(DATA_END)
    rows: list[dict] = []
    kids = []
    idents = []

    def stay(cid, stage, start, days, outcome, need, team):
        end = start + pd.Timedelta(days=int(days))
        if end > end_ts:
            end, outcome = None, None
        rows.append({"episode_id": f"E{len(rows)}", "child_id": cid, "stage": stage, "start": start, "end": end,
                     "outcome": outcome, "need_id": need, "team": team, "source": "test", "source_row": len(rows)})
        return end

    for i in range(n_children):
        cid = f"c{i:04d}"
        kids.append({"child_id": cid, "la": "999", "sex": "FM"[i % 2] if i % 17 else "U",
                     "ethnicity": ["WBRI", "WIRI", "MWBC", "APKN", "BCRB", "OOTH"][i % 6],
                     "birth_month": dt.date(2008 + i % 15, 1 + i % 12, 1), "disability": i % 9 == 0,
                     "uasc": i % 23 == 0})
        idents.append({"child_id": cid, "source": "test", "source_child_id": f"LA{i}", "upn": f"{UPN[:-3]}{i:03d}",
                       "surname": SURNAME, "forenames": f"Forename{i}", "birth_date": dt.date(2010, 5, 17)})
        t = pd.Timestamp(DATA_START) + pd.Timedelta(days=int(rng.integers(0, 900)))
        for need in range(1 + int(rng.random() < 0.3)):
            nid = f"N{i}-{need}"
            if t > end_ts:
                break
            stay(cid, "contact", t, 0, "referral", None, "Front Door")
            if rng.random() < 0.15:
                t = t + pd.Timedelta(days=int(rng.integers(60, 300)))
                continue
            end = stay(cid, "referral", t, rng.integers(0, 3), "assessment", nid, "Front Door")
            if end is None:
                break
            team = ["North", "South"][i % 2]
            roll = rng.random()
            outcome = "cin_plan" if roll < 0.3 else "strategy_discussion" if roll < 0.55 else "nfa"
            end = stay(cid, "assessment", end, rng.integers(5, 60), outcome, nid, team)
            if end is None:
                break
            if outcome == "cin_plan":
                end = stay(cid, "cin_plan", end, rng.integers(60, 400), "closed", nid, team)
            elif outcome == "strategy_discussion":
                stay(cid, "strategy_discussion", end, 0, "s47", nid, team)
                s47_out = "icpc" if rng.random() < 0.5 else "nfa"
                end = stay(cid, "s47", end, rng.integers(3, 20), s47_out, nid, team)
                if end is not None and s47_out == "icpc":
                    stay(cid, "icpc", end, 0, "cp_plan", nid, team)
                    end = stay(cid, "cp_plan", end, rng.integers(90, 500), "closed", nid, team)
            if end is None:
                break
            t = end + pd.Timedelta(days=int(rng.integers(30, 400)))
    episodes = pd.DataFrame(rows)
    ws.write("episodes", episodes)
    ws.write("children", pd.DataFrame(kids))
    ws.write("identifiers", pd.DataFrame(idents))
    ws.write("events", pd.DataFrame({"event_id": ["e1"], "date": [dt.date(2022, 10, 3)],
                                     "label": ["Ofsted inspection"], "kind": ["inspection"]}))
    ws.close()
    return path
