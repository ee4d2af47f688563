"""Looked after: care proceedings, periods of care as consecutive SSDA903 episodes, care leavers.

A period of care starts from an entry request (a plan or assessment that ended in care, a court
interim care order, an unaccompanied child's arrival). Its legal statuses (V2, L1/L2, C1, C2, E1),
placements (903 PLACE codes) and moves split it into episodes with RNE S/L/P/B, REC X1 between
episodes and a leaving-care REC at the end.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cscflow.synth.sampling import birthday, branch, lognormal_days
from cscflow.synth.stays import StayBuffer, attrs_json

#: final order -> (legal status from the final order while still looked after, or None = leaves care)
ORDER_STATUS = {"care_order": "C2", "placement_order": "E1", "sgo": None, "cao": None,
                "supervision_order": None, "no_order": None}
EXIT_OF_KIND = {"returned_home": "returned_home", "adoption": "permanence", "sgo": "permanence",
                "cao": "permanence", "left_care_18": "left_care_18", "other": "closed"}


def _pick(rng: np.random.Generator, n: int, probs: dict[str, Any]) -> np.ndarray:
    picked: np.ndarray = np.array(list(probs), dtype=object)[branch(rng.random(n), probs)]
    return picked


def proceedings_records(rng: np.random.Generator, params: dict[str, Any], child: np.ndarray, need: np.ndarray,
                        fam_ref: np.ndarray, application: np.ndarray, never_la: np.ndarray) -> dict[str, Any]:
    """Final orders and dates for proceedings (siblings in one family referral share a case)."""
    pr = params["proceedings"]
    n = len(child)
    final = application + np.maximum(28, lognormal_days(rng, n, pr["days"]))
    order = np.where(never_la, _pick(rng, n, pr["final_orders_never_looked_after"]),
                     _pick(rng, n, pr["final_orders_looked_after"])).astype(object)
    interim = application + np.maximum(0, lognormal_days(rng, n, pr["interim_days"]))
    return {"child": child, "need": need, "fam_ref": fam_ref, "application": application, "final": final,
            "order": order, "interim": interim, "never_la": never_la}


def build_periods(rng: np.random.Generator, params: dict[str, Any], entries: dict[str, Any], dob: np.ndarray) -> dict[str, Any]:
    """Exit day and kind, legal status changes of each period of care (arrays per period).

    ``entries`` has child, need, day, kind ('s20', 'court', 'uasc'), and for court periods the
    proceedings' final day and order (others -1 / None). ``dob`` is indexed by child.
    """
    la = params["looked_after"]
    pr = params["proceedings"]
    n = len(entries["child"])
    day, kind = entries["day"], entries["kind"]
    eighteen = birthday(dob[entries["child"]], 18)  # the calendar day, as the returns' readers count it
    final, order = entries["final"].copy(), entries["order"].copy()
    app = entries["application"].copy()
    entry_status = np.full(n, "V2", dtype=object)
    emerg_end = np.full(n, -1, dtype=np.int64)
    s20 = kind == "s20"
    entry_status[s20] = _pick(rng, int(s20.sum()), la["entry_legal_status"])
    emerg = np.isin(entry_status, ["L1", "L2"])
    emerg_end[emerg] = day[emerg] + np.maximum(1, lognormal_days(rng, int(emerg.sum()), la["emergency_days"]))
    entry_status[kind == "court"] = "C1"
    # s20 (and emergency) entries that go to court later: EPOs always, V2 with a probability
    drift = s20 & ((entry_status == "L2") | (rng.random(n) < pr["v2_to_proceedings"]))
    app[drift] = np.where(entry_status[drift] == "L2", emerg_end[drift],
                          day[drift] + lognormal_days(rng, int(drift.sum()), pr["v2_to_proceedings_days"]))
    final[drift] = app[drift] + np.maximum(28, lognormal_days(rng, int(drift.sum()), pr["days"]))
    order[drift] = _pick(rng, int(drift.sum()), pr["final_orders_looked_after"])
    in_court = (kind == "court") | drift
    # exits
    exit_day = np.full(n, -1, dtype=np.int64)
    exit_kind = np.full(n, "other", dtype=object)
    ex = _pick(rng, n, la["exit_s20"])
    rh = ex == "returned_home"
    exit_day[rh] = day[rh] + np.maximum(1, lognormal_days(rng, int(rh.sum()), la["returned_home_days"]))
    exit_kind[rh] = "returned_home"
    ot = ex == "other"
    exit_day[ot] = day[ot] + np.maximum(1, lognormal_days(rng, int(ot.sum()), la["other_days"]))
    long = np.isin(ex, ["left_care_18", "long_stay"]) | (kind == "uasc")
    exit_day[long] = eighteen[long]
    exit_kind[long] = "left_care_18"
    uasc_other = (kind == "uasc") & (rng.random(n) < 0.1)
    exit_day[uasc_other] = day[uasc_other] + lognormal_days(rng, int(uasc_other.sum()), la["other_days"])
    exit_kind[uasc_other] = "other"
    # court orders settle the exit of court periods (a drifting s20 period may have ended first)
    court_settles = in_court & ((exit_day < 0) | (app < exit_day) | long)
    o = order
    leave_at_final = court_settles & np.isin(o, ["sgo", "cao", "supervision_order", "no_order"])
    exit_day[leave_at_final] = final[leave_at_final]
    exit_kind[leave_at_final] = np.where(np.isin(o[leave_at_final], ["sgo", "cao"]), o[leave_at_final],
                                         "returned_home")
    po = court_settles & (o == "placement_order")
    adopt = final[po] + np.maximum(30, lognormal_days(rng, int(po.sum()), la["adoption_after_placement_order_days"]))
    exit_day[po] = adopt
    exit_kind[po] = "adoption"
    co = court_settles & (o == "care_order")
    disch = final[co] + lognormal_days(rng, int(co.sum()), la["order_discharged_days"])
    home = rng.random(int(co.sum())) < 0.35
    exit_day[co] = np.where(home, disch, eighteen[co])
    exit_kind[co] = np.where(home, "returned_home", "left_care_18")
    # court not settling (period ended before application): no court involvement
    lost = in_court & ~court_settles & (kind != "court")
    app[lost], final[lost], order[lost] = -1, -1, None
    in_court &= ~lost
    # 18th birthday ends every period
    late = (exit_day < 0) | (exit_day >= eighteen)
    exit_day[late] = eighteen[late]
    exit_kind[late] = "left_care_18"
    exit_day = np.maximum(exit_day, day + 1)
    adoption_place = np.full(n, -1, dtype=np.int64)
    ad = exit_kind == "adoption"
    adoption_place[ad] = np.maximum(
        final[ad], exit_day[ad] - lognormal_days(rng, int(ad.sum()), la["placed_for_adoption_before_order_days"]))
    return {"child": entries["child"], "need": entries["need"], "day": day, "exit": exit_day,
            "exit_kind": exit_kind, "entry_status": entry_status, "emerg_end": emerg_end,
            "application": app, "final": final, "order": order, "in_court": in_court,
            "interim": np.where(in_court, np.where(kind == "court", day, app + 2), -1),
            "adoption_place": adoption_place, "eighteen": eighteen, "kind": kind}


def episodes(rng: np.random.Generator, params: dict[str, Any], per: dict[str, Any], dob: np.ndarray, buf: StayBuffer,
             workers: Any) -> None:
    """Split periods into SSDA903 episodes and add them (stage looked_after) to ``buf``."""
    la = params["looked_after"]
    n = len(per["child"])
    entry, exit_ = per["day"], per["exit"]
    # breakpoints: (period, day, type) with type 1 = legal change, 2 = placement change
    bp_p, bp_d, bp_t, bp_ls = [], [], [], []

    def legal(mask: np.ndarray, when: np.ndarray, status: np.ndarray | str) -> None:
        ok = mask & (when > entry) & (when < exit_)
        bp_p.append(np.flatnonzero(ok))
        bp_d.append(when[ok])
        bp_t.append(np.ones(ok.sum(), np.int8))
        bp_ls.append(np.asarray(status, dtype=object)[ok] if np.ndim(status) else np.full(ok.sum(), status, dtype=object))

    em = per["emerg_end"] >= 0
    legal(em & ~per["in_court"], per["emerg_end"], "V2")
    ic = per["in_court"]
    drift = ic & (per["kind"] != "court")
    legal(drift, per["interim"], "C1")
    fin_status = np.array([{"care_order": "C2", "placement_order": "E1"}.get(o, "") for o in per["order"]],
                          dtype=object) if n else np.zeros(0, dtype=object)
    legal(ic & (fin_status != ""), per["final"], fin_status)
    # placement moves
    years = (exit_ - entry) / 365.25
    k = rng.poisson(la["placement_moves_per_year"] * np.maximum(years, 0))
    mp = np.repeat(np.arange(n), k)
    md = entry[mp] + (rng.random(len(mp)) * (exit_[mp] - entry[mp])).astype(np.int64)
    ok = (md > entry[mp]) & (md < exit_[mp])
    bp_p.append(mp[ok])
    bp_d.append(md[ok])
    bp_t.append(np.full(ok.sum(), 2, np.int8))
    bp_ls.append(np.full(ok.sum(), "", dtype=object))
    ap = per["adoption_place"] >= 0
    ap_ok = ap & (per["adoption_place"] > entry) & (per["adoption_place"] < exit_)
    bp_p.append(np.flatnonzero(ap_ok))
    bp_d.append(per["adoption_place"][ap_ok])
    bp_t.append(np.full(ap_ok.sum(), 3, np.int8))
    bp_ls.append(np.full(ap_ok.sum(), "", dtype=object))
    # starts: (period, entry, type 0)
    p = np.concatenate([np.arange(n)] + bp_p)
    d = np.concatenate([entry] + bp_d)
    t = np.concatenate([np.zeros(n, np.int8)] + bp_t)
    ls = np.concatenate([per["entry_status"]] + bp_ls)
    order = np.lexsort((t, d, p))
    p, d, t, ls = p[order], d[order], t[order], ls[order]
    # merge breakpoints on the same day of the same period into one episode start (RNE B)
    same = np.r_[False, (p[1:] == p[:-1]) & (d[1:] == d[:-1])]
    grp = np.cumsum(~same) - 1
    m = grp[-1] + 1 if len(grp) else 0
    has_l = np.zeros(m, bool)
    has_p = np.zeros(m, bool)
    np.logical_or.at(has_l, grp, t == 1)
    np.logical_or.at(has_p, grp, (t == 2) | (t == 3))
    is_adopt = np.zeros(m, bool)
    np.logical_or.at(is_adopt, grp, t == 3)
    first = ~same
    ep_p, ep_start = p[first], d[first]
    ep_first = np.r_[True, ep_p[1:] != ep_p[:-1]]
    # legal status: carried forward from the last legal change
    new_ls = np.where(t == 1, ls, np.where(t == 0, ls, ""))
    ep_ls_set = np.full(m, "", dtype=object)
    # the last non-empty status within a group
    nz = new_ls != ""
    ep_ls_set[grp[nz]] = new_ls[nz]
    idx = np.where(ep_ls_set != "", np.arange(m), -1)
    idx = np.maximum.accumulate(idx)
    ep_ls = ep_ls_set[idx]
    rne = np.where(ep_first, "S", np.where(has_l & has_p, "B", np.where(has_l, "L", "P"))).astype(object)
    ep_end = np.r_[ep_start[1:], 0]
    last = np.r_[ep_p[1:] != ep_p[:-1], True]
    ep_end[last] = exit_[ep_p[last]]
    # placements: new draw on S and P/B episodes; carried on L episodes
    age = (ep_start - dob[per["child"][ep_p]]) / 365.25
    band = np.where(age < 11, "under_11", np.where(age < 16, "age_11_15", "age_16_17"))
    place = np.full(m, "", dtype=object)
    for b in ("under_11", "age_11_15", "age_16_17"):
        sel = band == b
        place[sel] = _pick(rng, int(sel.sum()), la["placements"][b])
    place[is_adopt] = np.where(rng.random(int(is_adopt.sum())) < 0.2, "A5", "A6")
    newp = ep_first | has_p
    pidx = np.maximum.accumulate(np.where(newp, np.arange(m), -1))
    place = place[pidx]
    prov = _pick(rng, m, la["placement_provider"])
    prov = prov[pidx]
    prov[place == "P1"] = "PR0"
    prov[np.isin(place, ["A5", "A6"])] = "PR1"
    # REC: X1 between episodes; the period's exit on the last
    rec = np.full(m, "X1", dtype=object)
    kinds = per["exit_kind"][ep_p[last]]
    rec_last = np.full(int(last.sum()), "E8", dtype=object)
    for kname, key in (("returned_home", "rec_returned_home"), ("left_care_18", "rec_left_care_18"),
                       ("other", "rec_other")):
        sel = kinds == kname
        rec_last[sel] = _pick(rng, int(sel.sum()), la[key])
    rec_last[kinds == "adoption"] = np.where(rng.random(int((kinds == "adoption").sum())) < 0.6, "E11", "E12")
    rec_last[kinds == "sgo"] = np.where(rng.random(int((kinds == "sgo").sum())) < 0.4, "E45", "E46")
    rec_last[kinds == "cao"] = "E41"
    rec[last] = rec_last
    # reason for a placement change: on the episode that ends in one
    nxt_p = np.r_[has_p[1:] & ~ep_first[1:], False]
    rpc = np.full(m, None, dtype=object)
    rpc[nxt_p] = _pick(rng, int(nxt_p.sum()), la["reason_place_change"])
    outcome = np.full(m, "looked_after", dtype=object)
    outcome[last] = np.array([EXIT_OF_KIND[k] for k in kinds], dtype=object)
    attrs = attrs_json(rne=rne, legal_status=ep_ls, placement=place, placement_provider=prov, rec=rec,
                       reason_place_change=rpc)
    buf.add("looked_after", child=per["child"][ep_p], need=per["need"][ep_p], start=ep_start, end=ep_end,
            outcome=outcome, team="Children in Care", attrs=attrs, worker=workers(per["child"][ep_p]))


def care_leavers(rng: np.random.Generator, params: dict[str, Any], per: dict[str, Any], dob: np.ndarray, buf: StayBuffer,
                 workers: Any) -> None:
    """Care-leaver stays for children who left care at 18 (OC3 activity, accommodation, in touch)."""
    cl = params["care_leaver"]
    sel = per["exit_kind"] == "left_care_18"
    child = per["child"][sel]
    start = per["exit"][sel]
    end = dob[child] + np.int64(cl["until_age"] * 365.25)
    n = len(child)
    attrs = attrs_json(activity=_pick(rng, n, cl["activity"]), accommodation=_pick(rng, n, cl["accommodation"]),
                       in_touch=_pick(rng, n, cl["in_touch"]))
    buf.add("care_leaver", child=child, need=per["need"][sel], start=start, end=np.maximum(end, start),
            outcome=np.full(n, "closed", dtype=object), team="Care Leavers", attrs=attrs, worker=workers(child))
