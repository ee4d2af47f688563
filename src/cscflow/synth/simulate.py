"""Simulate one LA's children's social care: :func:`simulate` returns a :class:`County`.

A semi-Markov process with explicit parameters (``parameters.yaml``): families arrive at the
front door, are referred again and again, and each referral follows the England process to
an exit, a plan or care. Everything is vectorised with numpy (all referrals of a step at once).

>>> county = simulate("tiny", seed=1)
>>> {"contact", "referral", "assessment"} <= set(county.journeys.stage)
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from cscflow.synth import front_door as fdoor
from cscflow.synth import looked_after as lac
from cscflow.synth.care import Needs, run_pathway
from cscflow.synth.county import County
from cscflow.synth.params import load_parameters
from cscflow.synth.population import ChildRegistry, age_days
from cscflow.synth.sampling import branch, day, events_factor, snap_to_weekday
from cscflow.synth.stays import StayBuffer, attrs_json

STAGE_ORDER = {s: i for i, s in enumerate((
    "contact", "early_help", "referral", "assessment", "strategy_discussion", "s47", "icpc", "cin_plan",
    "cp_plan", "pre_proceedings", "proceedings", "looked_after", "care_leaver"))}


def _workers(params: dict[str, Any], rng: np.random.Generator) -> dict[str, Callable[..., np.ndarray]]:
    """Worker-id makers per team: each returns int worker numbers (global, per team block)."""
    sizes = params["population"]["workers_per_team"]
    base, out = 0, {}
    for team, k in sizes.items():
        out[team] = (base, int(k))
        base += int(k)
    districts = list(params["population"]["districts"])

    def team_fn(team: str) -> Callable[[Any], np.ndarray]:
        b, k = out[team]
        return lambda u: b + np.minimum((np.asarray(u) * k).astype(np.int64), k - 1)

    fns: dict[str, Callable[..., np.ndarray]] = {t: team_fn(t) for t in out}

    def district(idx: np.ndarray, u: np.ndarray) -> np.ndarray:
        bases = np.array([out[d][0] for d in districts])
        ks = np.array([out[d][1] for d in districts])
        ids: np.ndarray = bases[idx] + np.minimum((u * ks[idx]).astype(np.int64), ks[idx] - 1)
        return ids

    fns["district"] = district
    cic_b, cic_k = out["Children in Care"]
    cl_b, cl_k = out["Care Leavers"]
    fns["cic_child"] = lambda child: cic_b + (np.asarray(child) * 7919) % cic_k
    fns["cl_child"] = lambda child: cl_b + (np.asarray(child) * 7919) % cl_k
    return fns


def simulate(preset_or_params: str | dict[str, Any] = "county", seed: int = 0) -> County:
    """Simulate a county from a preset name ('tiny', 'county'), a YAML path or a parameter dict.

    The same parameters and seed give the same County: the steps below draw from one generator, in order.
    """
    params = preset_or_params if isinstance(preset_or_params, dict) and "front_door" in preset_or_params \
        else load_parameters(preset_or_params)
    rng = np.random.default_rng(seed)
    start_day, end_day = day(params["start"]), day(params["end"])
    sim0 = start_day - int(params["burn_in_years"] * 365.25)
    cutoff = start_day - int(params["history_years"] * 365.25)
    reg = ChildRegistry(params, rng)
    buf = StayBuffer()
    workers = _workers(params, rng)
    teams = np.array(list(params["population"]["districts"]), dtype=object)
    needs, n_fam_refs = _needs(rng, params, reg, sim0, end_day)
    c_day = _referral_contacts(rng, params, needs, buf, workers)
    req, plo = run_pathway(rng, params, needs, n_fam_refs, buf, teams, workers)
    _other_contacts(rng, params, reg, needs, c_day, cutoff, end_day, buf, workers)
    uasc = _uasc(rng, params, reg, sim0, end_day, len(needs.child), buf, workers, teams)
    per, prec, never, cp_out, idx, src = _care_periods(rng, params, reg, req, plo, n_fam_refs, uasc)
    per, kept_need = _one_period_at_a_time(per, src, cp_out, idx, len(needs.child) + len(uasc["child"]))
    dob = reg.arrays()["dob"]
    lac.episodes(rng, params, per, dob, buf, workers["cic_child"])
    lac.care_leavers(rng, params, per, dob, buf, workers["cl_child"])
    proc = _proceedings(per, prec, never, plo, n_fam_refs)
    return _assemble(params, seed, rng, reg, buf, proc, kept_need, start_day, end_day, cutoff, teams)


def _needs(rng: np.random.Generator, params: dict[str, Any], reg: ChildRegistry, sim0: int,
           end_day: int) -> tuple[Needs, int]:
    """Families, their children and referral dates: (one episode of need per child of a referred family under
    18, the number of family referral chains)."""
    fd = params["front_door"]
    fam_day, fam_id = fdoor.families(rng, params, sim0, end_day)
    child, child_fam = fdoor.family_children(rng, params, reg, fam_day, fam_id)
    ch_f, ch_g, ch_d = fdoor.referral_chains(rng, params, fam_day, end_day)
    fam_ref = np.arange(len(ch_f))
    # children of each family: sort children by family and expand
    order = np.argsort(child_fam, kind="stable")
    c_sorted, f_sorted = child[order], child_fam[order]
    first = np.searchsorted(f_sorted, ch_f, side="left")
    count = np.searchsorted(f_sorted, ch_f, side="right") - first
    rep = np.repeat(np.arange(len(ch_f)), count)
    offs = np.arange(len(rep)) - np.repeat(np.cumsum(count) - count, count)
    need_child = c_sorted[first[rep] + offs]
    need_day = ch_d[rep]
    a = reg.arrays()
    age = need_day - a["dob"][need_child]
    ok = (age < 18 * 365.25) & ((age >= 0) | ((ch_g[rep] == 0) & (age > -130)))
    need_child, need_day, need_fr, age = need_child[ok], need_day[ok], fam_ref[rep][ok], age[ok]
    n_need = len(need_child)
    needs = Needs(child=need_child, need=np.arange(n_need), fam_ref=need_fr, day=need_day, age=age,
                  male=a["male"][need_child].astype(bool), disability=a["disability"][need_child].astype(bool),
                  district=a["district"][need_child], source=fdoor.contact_sources(rng, n_need, fd))

    return needs, len(ch_f)


def _referral_contacts(rng: np.random.Generator, params: dict[str, Any], needs: Needs, buf: StayBuffer,
                       workers: dict[str, Callable[..., np.ndarray]]) -> np.ndarray:
    """The contact before each referral (same day or a few days before); their days."""
    fd = params["front_door"]
    need_child, need_day, n_need = needs.child, needs.day, len(needs.child)
    delay = np.where(rng.random(n_need) < fd["referral_delay_days"]["same_day"], 0,
                     rng.integers(1, int(fd["referral_delay_days"]["max"]) + 1, n_need))
    c_day = need_day - delay
    buf.add("contact", child=need_child, need=needs.need, start=c_day, end=c_day,
            outcome=np.full(n_need, "referral", dtype=object), team="Front Door",
            attrs=attrs_json(source=needs.source),
            worker=workers["Front Door"](rng.random(n_need)))
    return c_day


def _other_contacts(rng: np.random.Generator, params: dict[str, Any], reg: ChildRegistry, needs: Needs,
                    c_day: np.ndarray, cutoff: int, end_day: int, buf: StayBuffer,
                    workers: dict[str, Callable[..., np.ndarray]]) -> None:
    """Contacts not leading to referral (to known and new children) and the early help some lead to."""
    fd = params["front_door"]
    need_child, need_day, n_need = needs.child, needs.day, len(needs.child)
    a = reg.arrays()
    co = fd["contact_outcomes"]
    p_ref = co["referral"] / sum(co.values())
    n_ref_contacts = int(((c_day >= cutoff) & (c_day <= end_day)).sum())
    n_other = int(round(n_ref_contacts * (1 - p_ref) / p_ref))
    n_known = int(round(n_other * fd["non_referral_contacts_to_known_children"]))
    pick = rng.integers(0, n_need, 3 * n_known + 10)
    kd = snap_to_weekday(rng, need_day[pick] + rng.normal(0, 200, len(pick)).astype(np.int64), fd)
    kage = kd - a["dob"][need_child[pick]]
    valid = (kd >= cutoff) & (kd <= end_day) & (kage >= 0) & (kage < 18 * 365.25)
    pick, kd = pick[valid][:n_known], kd[valid][:n_known]
    n_new = n_other - len(pick)
    # dated like the referral contacts (same trend and seasonality), so the share of contacts
    # becoming referrals is the same in every month
    in_window = np.flatnonzero((c_day >= cutoff) & (c_day <= end_day))
    nd = c_day[in_window[rng.integers(0, len(in_window), n_new)]] if len(in_window) else \
        np.full(n_new, end_day)
    second = rng.random(n_new) < 0.2
    n_kids = n_new - int(second.sum())
    kid_days = nd[~second]
    new_kids = reg.add(kid_days - age_days(rng, n_kids, [1] * 17 + [0.5]), family=-1 - np.arange(n_kids))
    # a second contact for some children: attach to a random contact-only child after (or before) it
    host = rng.integers(0, n_kids, int(second.sum())) if n_kids else np.zeros(0, np.int64)
    gap = rng.integers(7, 365, len(host))
    d2 = kid_days[host] + gap
    d2 = snap_to_weekday(rng, np.where(d2 > end_day, kid_days[host] - gap, d2), fd)
    o_child = np.concatenate([need_child[pick], new_kids, new_kids[host]])
    o_day = np.concatenate([kd, kid_days, d2])
    no_ref = {k: v for k, v in co.items() if k != "referral"}
    o_out = np.array(list(no_ref), dtype=object)[branch(rng.random(len(o_child)), no_ref)]
    buf.add("contact", child=o_child, need=np.full(len(o_child), -1), start=o_day, end=o_day, outcome=o_out,
            team="Front Door", attrs=attrs_json(source=fdoor.contact_sources(rng, len(o_child), fd)),
            worker=workers["Front Door"](rng.random(len(o_child))))
    eh = o_out == "early_help"
    eh_start = o_day[eh] + rng.integers(0, 6, int(eh.sum()))
    eh_end = eh_start + np.maximum(7, (fd["early_help_days"]["median"] * np.exp(
        fd["early_help_days"]["sigma"] * rng.standard_normal(int(eh.sum())))).astype(np.int64))
    buf.add("early_help", child=o_child[eh], need=np.full(int(eh.sum()), -1), start=eh_start, end=eh_end,
            outcome=np.full(int(eh.sum()), "closed", dtype=object), team="Early Help",
            worker=workers["Early Help"](rng.random(int(eh.sum()))))


def _uasc(rng: np.random.Generator, params: dict[str, Any], reg: ChildRegistry, sim0: int, end_day: int,
          n_need: int, buf: StayBuffer, workers: dict[str, Callable[..., np.ndarray]],
          teams: np.ndarray) -> dict[str, Any]:
    """Unaccompanied asylum-seeking children: arrival, referral, a short assessment ending in care."""
    uz = params["uasc"]
    udays = np.arange(sim0, end_day + 1)
    lam = uz["arrivals_per_10k_per_year"] * params["population"]["children_0_17"] / 10000 / 365.25 * events_factor(udays, params.get("events", []), "uasc", "arrivals")
    u_day = np.repeat(udays, rng.poisson(lam))
    nu = len(u_day)
    u_age = np.array(list(uz["age_distribution"]), dtype=np.int64)[branch(rng.random(nu), uz["age_distribution"])]
    u_dob = u_day - (u_age * 365.25 + rng.random(nu) * 365).astype(np.int64)
    eth_codes = list(uz["ethnicity"])
    eth_idx = reg.eth_index(eth_codes)[branch(rng.random(nu), uz["ethnicity"])]
    u_child = reg.add(u_dob, family=-10_000_000 - np.arange(nu), male=rng.random(nu) < uz["male"], eth=eth_idx,
                      uasc=True)
    a = reg.arrays()
    u_need = n_need + np.arange(nu)
    u_aend = u_day + rng.integers(1, 4, nu)
    buf.add("contact", child=u_child, need=u_need, start=u_day, end=u_day,
            outcome=np.full(nu, "referral", dtype=object), team="Front Door",
            attrs=attrs_json(source=np.full(nu, "6", dtype=object)),
            worker=workers["Front Door"](rng.random(nu)))
    buf.add("referral", child=u_child, need=u_need, start=u_day, end=u_day,
            outcome=np.full(nu, "assessment", dtype=object), team="Front Door",
            attrs=attrs_json(referral_source=np.full(nu, "6", dtype=object),
                             primary_need=np.full(nu, "N8", dtype=object)),
            worker=workers["Front Door"](rng.random(nu)))
    buf.add("assessment", child=u_child, need=u_need, start=u_day, end=u_aend,
            outcome=np.full(nu, "looked_after", dtype=object), team=teams[a["district"][u_child]],
            worker=workers["district"](a["district"][u_child], rng.random(nu)))

    return {"child": u_child, "need": u_need, "aend": u_aend}


def _care_periods(rng: np.random.Generator, params: dict[str, Any], reg: ChildRegistry, req: Any, plo: dict[str, Any],
                  n_fam_refs: int, uasc: dict[str, Any]) -> tuple[Any, ...]:
    """Periods of care: non-court entries first (their drift to court counts for calibration), then the
    proceedings' (PLO route); (periods, proceedings records, never looked after, CP plan outcomes and their
    index, where each period's request came from)."""
    a = reg.arrays()
    u_child, u_need, u_aend, nu = uasc["child"], uasc["need"], uasc["aend"], len(uasc["child"])
    dob = a["dob"]
    e_child = np.concatenate(req.child + [u_child])
    e_need = np.concatenate(req.need + [u_need])
    e_day = np.concatenate(req.day + [u_aend])
    e_kind = np.concatenate([np.full(len(x), "s20", dtype=object) for x in req.child] +
                            [np.full(nu, "uasc", dtype=object)])
    minus = np.full(len(e_child), -1, dtype=np.int64)
    per_s20 = lac.build_periods(rng, params, {"child": e_child, "need": e_need, "day": e_day, "kind": e_kind,
                                              "final": minus, "application": minus.copy(),
                                              "order": np.full(len(e_child), None, dtype=object)}, dob)
    n_drift = int(per_s20["in_court"].sum())
    n_plo = len(plo["child"])
    target = float(params["proceedings"]["never_looked_after"])
    q = min(1.0, target * (n_plo + n_drift) / n_plo) if n_plo else 0.0
    never = rng.random(n_plo) < q
    # siblings in one set of proceedings share the never-looked-after draw
    fr_u = rng.random(n_fam_refs)
    never = fr_u[plo["fam_ref"]] < q
    prec = lac.proceedings_records(rng, params, plo["child"], plo["need"], plo["fam_ref"], plo["application"],
                                   never)
    cp_end, cp_out = plo["cp_part"]["end"], plo["cp_part"]["outcome"]
    idx = plo["cp_index"]
    la_entry = ~never
    cp_end[idx[la_entry]] = prec["interim"][la_entry]
    cp_end[idx[never]] = np.maximum(cp_end[idx[never]], prec["final"][never] + rng.integers(0, 60, never.sum()))
    cp_out[idx[never]] = "closed"
    per_court = lac.build_periods(rng, params, {
        "child": prec["child"][la_entry], "need": prec["need"][la_entry], "day": prec["interim"][la_entry],
        "kind": np.full(int(la_entry.sum()), "court", dtype=object), "final": prec["final"][la_entry],
        "application": prec["application"][la_entry], "order": prec["order"][la_entry]}, dob)
    per = {k: np.concatenate([per_s20[k], per_court[k]]) for k in per_s20}
    src_parts = [*req.source, (None, np.zeros(nu, np.int64))]
    src_part_id = np.concatenate([np.full(len(ix), i) for i, (_, ix) in enumerate(src_parts)] +
                                 [np.full(int(la_entry.sum()), -2)])
    src_row = np.concatenate([ix for _, ix in src_parts] + [np.flatnonzero(la_entry)])

    return per, prec, never, cp_out, idx, (src_parts, src_part_id, src_row)


def _one_period_at_a_time(per: dict[str, np.ndarray], src: tuple[Any, Any, Any], cp_out: np.ndarray,
                          idx: np.ndarray, n_needs: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """One period of care at a time per child (a later request is dropped), none from 18: (the periods kept,
    which needs are kept)."""
    src_parts, src_part_id, src_row = src
    kept_need = np.ones(n_needs, bool)
    pf = pd.DataFrame({"child": per["child"], "day": per["day"], "exit": per["exit"], "need": per["need"]})
    adult = per["day"] >= per["eighteen"]  # nobody enters care at 18 or over
    keep_p = kept_need[per["need"]] & ~adult
    pf = pf.assign(keep=keep_p, i=np.arange(len(pf))).sort_values(["child", "day", "i"], kind="stable")
    pf = pf[pf["keep"]]
    prev_exit = pf.groupby("child")["exit"].cummax().groupby(pf["child"]).shift(1)
    clash = (pf["day"] < prev_exit).to_numpy()
    drop_i = np.union1d(pf["i"].to_numpy()[clash], np.flatnonzero(adult))
    keep_p[drop_i] = False
    for i in drop_i:  # the stay that asked for care ends 'closed' instead (rare)
        pid = src_part_id[i]
        if pid >= 0 and src_parts[pid][0] is not None:
            src_parts[pid][0]["outcome"][src_row[i]] = "closed"
        elif pid == -2:
            cp_out[idx[src_row[i]]] = "closed"
    per = {k: v[keep_p] for k, v in per.items()}
    return per, kept_need


def _proceedings(per: dict[str, np.ndarray], prec: dict[str, np.ndarray], never: np.ndarray, plo: dict[str, Any],
                 n_fam_refs: int) -> dict[str, np.ndarray]:
    """Proceedings: the PLO route's and those of s20 periods drifting to court."""
    d = per["in_court"] & (per["kind"] != "court")
    proc = {
        "child": np.concatenate([prec["child"], per["child"][d]]),
        "need": np.concatenate([prec["need"], per["need"][d]]),
        "application": np.concatenate([prec["application"], per["application"][d]]),
        "interim": np.concatenate([prec["interim"], per["interim"][d]]),
        "interim_order": np.concatenate([np.where(never, np.where(prec["order"] == "supervision_order", "ISO",
                                                                    None), "ICO"), np.full(int(d.sum()), "ICO")]),
        "final": np.concatenate([prec["final"], per["final"][d]]),
        "order": np.concatenate([prec["order"], per["order"][d]]),
        "case_key": np.concatenate([plo["fam_ref"], n_fam_refs + np.arange(int(d.sum()))]),
        "never_la": np.concatenate([never, np.zeros(int(d.sum()), bool)]),
    }
    return proc


def _assemble(params: dict[str, Any], seed: int, rng: np.random.Generator, reg: ChildRegistry, buf: StayBuffer,
              proc: dict[str, np.ndarray], kept_need: np.ndarray, start_day: int, end_day: int, cutoff: int,
              teams: np.ndarray) -> County:
    ok = kept_need[proc["need"]] & (proc["application"] <= end_day) & (proc["final"] >= cutoff)
    proc = {k: v[ok] for k, v in proc.items()}
    case_u, case_inv = np.unique(proc["case_key"], return_inverse=True)
    case_no = np.array([f"ZW{(15 + i % 4):02d}C5{i:04d}" for i in range(len(case_u))], dtype=object)[case_inv] \
        if len(case_u) else np.zeros(0, dtype=object)
    courts = np.array(params["proceedings"]["courts"], dtype=object)
    court = courts[case_inv % len(courts)] if len(case_u) else np.zeros(0, dtype=object)
    buf.add("proceedings", child=proc["child"], need=proc["need"], start=proc["application"], end=proc["final"],
            outcome=proc["order"], team="Legal", attrs=attrs_json(order=proc["order"], case_number=case_no))
    st = buf.arrays()
    need_a, start_a, end_a = st["need"], st["start"], st["end"]
    # history kept: whole episodes of need still live after the cutoff; other stays from the cutoff
    live_end = np.where(end_a > end_day, end_day + 1, end_a)
    need_key = np.maximum(need_a, -1) + 1  # 0 = no need
    need_last = np.full(int(need_key.max()) + 1 if len(need_key) else 1, -(10**9), dtype=np.int64)
    np.maximum.at(need_last, need_key, live_end)
    keep = np.where(need_a >= 0, need_last[need_key] >= cutoff, start_a >= cutoff)
    keep &= (start_a <= end_day) & ((need_a < 0) | kept_need[np.maximum(need_a, 0)])
    st = {k: v[keep] for k, v in st.items()}
    kids, pos = np.unique(st["child"], return_inverse=True)
    children, ids, ids_num = reg.frame(kids, str(params["la"]), end_day)
    stage_o = pd.Series(st["stage"]).map(STAGE_ORDER).to_numpy()
    order = np.lexsort((stage_o, st["start"], ids_num[pos]))
    st = {k: v[order] for k, v in st.items()}
    pos = pos[order]
    open_ = st["end"] > end_day
    needs_u, need_inv = np.unique(st["need"], return_inverse=True)
    # need ids numbered by the day of their first stay
    first_day = np.full(len(needs_u), np.iinfo(np.int64).max)
    np.minimum.at(first_day, need_inv, st["start"])
    rank = np.empty(len(needs_u), np.int64)
    rank[np.argsort(first_day, kind="stable")] = np.arange(len(needs_u))
    need_names = np.char.add("N", np.char.zfill(rank.astype(str), 7)).astype(object)
    need_names[needs_u < 0] = None
    need_id = need_names[need_inv]
    start = st["start"].astype("datetime64[D]").astype("datetime64[ns]") + st["seconds"].astype("timedelta64[s]")
    end = st["end"].astype("datetime64[D]").astype("datetime64[ns]")
    end[open_] = np.datetime64("NaT")
    outcome = st["outcome"].copy()
    outcome[open_] = None
    attrs = pd.Series(st["attrs"])
    # an open episode has no reason for ending yet
    strip = open_ & (st["stage"] == "looked_after")
    attrs[strip] = attrs[strip].str.replace(r', "(rec|reason_place_change)": "[^"]*"', "", regex=True)
    n_workers = int(st["worker"].max()) + 2 if len(st["worker"]) else 1
    worker_names = np.array([None] + [f"W{i:04d}" for i in range(n_workers - 1)], dtype=object)
    journeys = pd.DataFrame({
        "child_id": ids[pos].astype(object), "need_id": need_id, "stage": st["stage"],
        "start": start, "end": end, "outcome": outcome,
        "team": st["team"], "worker": worker_names[st["worker"] + 1], "attrs": attrs.to_numpy(),
    })
    # proceedings frame
    ppos = np.searchsorted(kids, proc["child"])
    fin_open = proc["final"] > end_day

    def td(x: Any) -> Any:
        return pd.to_datetime(np.asarray(x).astype("datetime64[D]"))

    proceedings = pd.DataFrame({
        "proceedings_id": [f"P{i:06d}" for i in range(len(ppos))],
        "child_id": ids[ppos] if len(ppos) else np.zeros(0, dtype=object),
        "case_number": case_no, "court": court,
        "application_date": td(proc["application"]),
        "interim_order_date": td(proc["interim"]).where(pd.Series(proc["interim_order"]).notna().to_numpy()
                                                         & (proc["interim"] <= end_day), pd.NaT),
        "interim_order": proc["interim_order"].astype(object),
        "final_order_date": td(proc["final"]).where(~fin_open, pd.NaT),
        "order": pd.Series(proc["order"], dtype=object).where(~fin_open, None).to_numpy(),
        "never_looked_after": proc["never_la"].astype(bool),
    })
    proceedings = proceedings.sort_values(["application_date", "case_number", "child_id"], kind="stable")
    proceedings["proceedings_id"] = [f"P{i:06d}" for i in range(len(proceedings))]
    events = pd.DataFrame([{"event_id": e["event_id"], "date": pd.Timestamp(e["date"]), "label": e["label"],
                            "kind": e["kind"]} for e in params.get("events", [])],
                          columns=["event_id", "date", "label", "kind"])
    return County(la=str(params["la"]), start=params["start"], end=params["end"], children=children,
                  journeys=journeys, proceedings=proceedings.reset_index(drop=True), events=events,
                  parameters=params, seed=seed)
