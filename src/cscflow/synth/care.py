"""From referral to plan: assessment, strategy discussion, s47, ICPC, CIN and CP plans, PLO.

Every step is vectorised over all referrals at once. Siblings referred together share their
random draws (indexed by the family's referral), so they mostly follow the same path.
Requests to enter care and care proceedings are returned for :mod:`cscflow.synth.looked_after`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cscflow.model.calendar import add_working_days as _add_working_days
from cscflow.synth.sampling import branch, events_factor, lognormal_days
from cscflow.synth.stays import StayBuffer, attrs_json


def add_working_days(days: np.ndarray, n: np.ndarray) -> np.ndarray:
    """``n`` England working days after each day (int days in and out), by the one calendar
    (:func:`cscflow.model.calendar.add_working_days`: a weekend or bank-holiday start is day 0, as
    the analyses count)."""
    return _add_working_days(np.asarray(days, dtype=np.int64), n)


@dataclass
class Needs:
    """One row per child per referral (an episode of need)."""

    child: np.ndarray      # registry index
    need: np.ndarray       # need number (index into these arrays)
    fam_ref: np.ndarray    # family referral number: siblings share random draws through it
    day: np.ndarray        # referral day
    age: np.ndarray        # age in days at referral (negative: unborn)
    male: np.ndarray
    disability: np.ndarray
    district: np.ndarray   # district team index
    source: np.ndarray     # referral source code (the contact's source)


@dataclass
class CareRequests:
    """Entries to care and proceedings asked for by the pathway (filled by :func:`run_pathway`)."""

    child: list[Any]
    need: list[Any]
    day: list[Any]
    route: list[Any]            # 'assessment', 'cp_plan', 'cin_plan', 'proceedings'
    source: list[Any]           # (stays part dict, row index array) whose outcome is 'looked_after'


class Draws:
    """Uniform and normal draws per family referral, looked up per child-need."""

    def __init__(self, rng: np.random.Generator, n_fam_ref: int, fam_ref: np.ndarray) -> None:
        self.rng, self.n, self.idx = rng, n_fam_ref, fam_ref

    def u(self) -> np.ndarray:
        draws: np.ndarray = self.rng.random(self.n)[self.idx]
        return draws

    def z(self) -> np.ndarray:
        draws: np.ndarray = self.rng.standard_normal(self.n)[self.idx]
        return draws


def _factors(params: dict[str, Any], name: str, outcomes: list[str], ctx: dict[str, Any], sel: np.ndarray,
             dates: np.ndarray) -> np.ndarray | None:
    rows = int(sel.sum()) if sel.dtype == bool else len(sel)
    f = None
    for eff in params.get("characteristics", []):
        if eff["branch"] == name and eff["outcome"] in outcomes:
            f = np.ones((rows, len(outcomes))) if f is None else f
            who = ctx[eff["who"]][sel]
            f[who, outcomes.index(eff["outcome"])] *= float(eff["factor"])
    for o in outcomes:
        ev = events_factor(dates, params.get("events", []), name, o)
        if (ev != 1).any():
            f = np.ones((rows, len(outcomes))) if f is None else f
            f[:, outcomes.index(o)] *= ev
    return f


def run_pathway(rng: np.random.Generator, params: dict[str, Any], needs: Needs, n_fam_ref: int, buf: StayBuffer,
                teams: np.ndarray, workers: dict[str, Any]) -> tuple[CareRequests, dict[str, Any]]:
    """Simulate every referral's path to its exit or to care; stays go to ``buf``.

    Returns the requests to enter care and the PLO proceedings (dict of arrays).
    """
    dr = Draws(rng, n_fam_ref, needs.fam_ref)
    n = len(needs.child)
    ctx = {
        "disability": needs.disability,
        "male": needs.male,
        "age_under_1": needs.age < 365,
        "age_16_17": needs.age >= 16 * 365.25,
    }
    team = teams[needs.district]
    # one district worker per need, one front-door worker per referral
    dw = workers["district"](needs.district, dr.u())
    fdw = workers["Front Door"](dr.u())
    req = CareRequests([], [], [], [], [])
    all_rows = np.arange(n)

    def outcomes_of(name: str) -> tuple[list[str], dict[str, Any]]:
        probs = params[name]["outcomes"]
        return list(probs), probs

    def draw(name: str, rows: np.ndarray, dates: np.ndarray) -> np.ndarray:
        names, probs = outcomes_of(name)
        mask = np.zeros(n, bool)
        mask[rows] = True
        f = _factors(params, name, names, ctx, rows, dates)
        picked: np.ndarray = np.array(names, dtype=object)[branch(u_all[name][rows], probs, f)]
        return picked

    u_all = {k: dr.u() for k in ("referral", "assessment", "strategy_discussion", "s47", "icpc", "cp_plan",
                                  "cin_plan", "pre_proceedings", "plo", "plo_when", "delay")}
    z_all = {k: dr.z() for k in ("referral", "assessment", "s47", "cp_plan", "cin_plan", "pre_proceedings")}

    def add(stage: str, rows: np.ndarray, start: Any, end: Any, outcome: Any, team_: Any, attrs: Any = None,
            worker: Any = None) -> dict[str, Any]:
        buf.add(stage, child=needs.child[rows], need=needs.need[rows], start=start, end=end, outcome=outcome,
                team=team_, attrs=attrs, worker=worker)
        return buf.parts[-1] if len(rows) else {"outcome": np.zeros(0, dtype=object)}

    # -- referral -----------------------------------------------------------------------
    ref_out = draw("referral", all_rows, needs.day)
    delay = np.where(u_all["delay"] < 0.6, 0, 1 + (u_all["delay"] * 10).astype(int) % 2)
    ref_end = needs.day + delay
    nfa = ref_out == "nfa"
    ref_end[nfa] = needs.day[nfa] + lognormal_days(rng, int(nfa.sum()), params["referral"]["decision_days"],
                                                   z_all["referral"][nfa])
    pn = params["referral"]["primary_need"]
    need_code = np.array(list(pn), dtype=object)[branch(dr.u(), pn)]
    ref_src = needs.source
    add("referral", all_rows, needs.day, ref_end, ref_out, "Front Door",
        attrs_json(referral_source=ref_src, primary_need=need_code), worker=fdw)

    # -- assessment ---------------------------------------------------------------------
    a_rows = np.flatnonzero(ref_out == "assessment")
    a_start = ref_end[a_rows]
    a_end = a_start + np.maximum(1, lognormal_days(rng, len(a_rows), params["assessment"]["days"],
                                                   z_all["assessment"][a_rows]))
    a_out = draw("assessment", a_rows, a_start)
    a_part = add("assessment", a_rows, a_start, a_end, a_out, team[a_rows], worker=dw[a_rows])
    # step down to early help: an early help episode follows
    sd_rows_eh = a_rows[a_out == "step_down_early_help"]
    if len(sd_rows_eh):
        eh_start = a_end[a_out == "step_down_early_help"]
        eh_end = eh_start + lognormal_days(rng, len(sd_rows_eh), params["front_door"]["early_help_days"])
        buf.add("early_help", child=needs.child[sd_rows_eh], need=np.full(len(sd_rows_eh), -1),
                start=eh_start, end=eh_end, outcome=np.full(len(sd_rows_eh), "closed", dtype=object),
                team="Early Help", worker=workers["Early Help"](rng.random(len(sd_rows_eh))))
    la_a = a_out == "looked_after"
    _request(req, needs, a_rows[la_a], a_end[la_a], "assessment", a_part, np.flatnonzero(la_a))

    # -- strategy discussion ------------------------------------------------------------
    sd_rows = np.concatenate([np.flatnonzero(ref_out == "strategy_discussion"), a_rows[a_out == "strategy_discussion"]])
    sd_day = np.concatenate([ref_end[ref_out == "strategy_discussion"], a_end[a_out == "strategy_discussion"]])
    sd_out = draw("strategy_discussion", sd_rows, sd_day)
    add("strategy_discussion", sd_rows, sd_day, sd_day, sd_out, team[sd_rows], worker=dw[sd_rows])

    # -- s47 ----------------------------------------------------------------------------
    s_rows, s_start = sd_rows[sd_out == "s47"], sd_day[sd_out == "s47"]
    s_out = draw("s47", s_rows, s_start)
    to_icpc = s_out == "icpc"
    zs = z_all["s47"][s_rows]
    wd = np.where(to_icpc, lognormal_days(rng, len(s_rows), params["s47"]["days_to_icpc"], zs),
                  lognormal_days(rng, len(s_rows), params["s47"]["days_no_icpc"], zs))
    s_end = add_working_days(s_start, np.maximum(wd, 1))
    due = add_working_days(s_start, np.full(len(s_rows), 15))
    add("s47", s_rows, s_start, s_end, s_out, team[s_rows],
        attrs_json(icpc_due=np.datetime_as_string(due.astype("datetime64[D]"))), worker=dw[s_rows])

    # -- ICPC ---------------------------------------------------------------------------
    i_rows, i_day = s_rows[to_icpc], s_end[to_icpc]
    i_out = draw("icpc", i_rows, i_day)
    add("icpc", i_rows, i_day, i_day, i_out, team[i_rows], worker=dw[i_rows])

    # -- CP plan ------------------------------------------------------------------------
    cp_rows, cp_start = i_rows[i_out == "cp_plan"], i_day[i_out == "cp_plan"]
    cp_dur = np.maximum(14, lognormal_days(rng, len(cp_rows), params["cp_plan"]["days"], z_all["cp_plan"][cp_rows]))
    cp_end = cp_start + cp_dur
    cp_out = draw("cp_plan", cp_rows, cp_start)
    cat = params["cp_plan"]["initial_category"]
    cat_code = np.array(list(cat), dtype=object)[branch(dr.u()[cp_rows], cat)]
    # pre-proceedings (PLO) for a share of CP plans, starting part-way through the plan
    plo = u_all["plo"][cp_rows] < params["cp_plan"]["pre_proceedings"]
    plo_start = cp_start + (cp_dur * (0.2 + 0.4 * u_all["plo_when"][cp_rows])).astype(np.int64)
    pp = params["pre_proceedings"]
    plo_end = plo_start + np.maximum(7, lognormal_days(rng, len(cp_rows), pp["days"],
                                                       z_all["pre_proceedings"][cp_rows]))
    plo_out = np.where(u_all["pre_proceedings"][cp_rows] < pp["outcomes"]["proceedings"] /
                       sum(pp["outcomes"].values()), "proceedings", "closed").astype(object)
    plo_out[~plo] = None
    # a PLO ending without proceedings keeps the plan open until at least its end
    closed_plo = plo & (plo_out == "closed")
    cp_end[closed_plo] = np.maximum(cp_end[closed_plo], plo_end[closed_plo] + 14)
    # proceedings: the plan's end and outcome are settled by the court route (looked_after.py)
    court = plo & (plo_out == "proceedings")
    cp_out[court] = "looked_after"
    cp_part = add("cp_plan", cp_rows, cp_start, cp_end, cp_out, team[cp_rows],
                  attrs_json(category_of_abuse=cat_code, initial_category=cat_code), worker=dw[cp_rows])
    add("pre_proceedings", cp_rows[plo], plo_start[plo], plo_end[plo], plo_out[plo], team[cp_rows[plo]],
        worker=dw[cp_rows[plo]])
    la_cp = (cp_out == "looked_after") & ~court
    _request(req, needs, cp_rows[la_cp], cp_end[la_cp], "cp_plan", cp_part, np.flatnonzero(la_cp))
    proceedings = {
        "rows": cp_rows[court], "child": needs.child[cp_rows[court]], "need": needs.need[cp_rows[court]],
        "fam_ref": needs.fam_ref[cp_rows[court]], "application": plo_end[court],
        "cp_part": cp_part, "cp_index": np.flatnonzero(court), "cp_end": cp_end[court],
    }

    # -- CIN plan -----------------------------------------------------------------------
    step = cp_out == "cin_plan"
    c_rows = np.concatenate([a_rows[a_out == "cin_plan"], s_rows[s_out == "cin_plan"],
                             i_rows[i_out == "cin_plan"], cp_rows[step]])
    c_start = np.concatenate([a_end[a_out == "cin_plan"], s_end[s_out == "cin_plan"],
                              i_day[i_out == "cin_plan"], cp_end[step]])
    c_end = c_start + np.maximum(7, lognormal_days(rng, len(c_rows), params["cin_plan"]["days"],
                                                   z_all["cin_plan"][c_rows]))
    c_out = draw("cin_plan", c_rows, c_start)
    c_part = add("cin_plan", c_rows, c_start, c_end, c_out, team[c_rows], worker=dw[c_rows])
    la_c = c_out == "looked_after"
    _request(req, needs, c_rows[la_c], c_end[la_c], "cin_plan", c_part, np.flatnonzero(la_c))
    return req, proceedings


def _request(req: CareRequests, needs: Needs, rows: np.ndarray, day: np.ndarray, route: str,
             part: dict[str, Any], index: np.ndarray) -> None:
    req.child.append(needs.child[rows])
    req.need.append(needs.need[rows])
    req.day.append(day)
    req.route.append(np.full(len(rows), route, dtype=object))
    req.source.append((part, index))
