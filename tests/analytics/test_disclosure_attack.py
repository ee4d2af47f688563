"""An attack on every export path of the tiny synthetic county (seed 3): nothing hidden comes back.

The county is simulated (``cscflow synth --preset tiny --seed 3``) and loaded with ``--la 886``. For
each output - ``cscflow flow`` (CSV, JSON, printed), ``cscflow stats`` (CSV, JSON, HTML figure), the
web app's flow and stats JSON and CSV - the attacker below, written independently of
:mod:`cscflow.disclosure` (its own notion of each table's structure, no linear programming), tries:

* reading a count of 1-4 that is shown;
* differencing: row totals, ``of`` columns and other partitions (the targets of one source), totals
  a reader can learn from a linked table (taken from the raw table when they are 5 or more), the
  complement of a part (referrals not re-referred), differences of cumulative counts and flow
  conservation through a Sankey node; solved by peeling (one unknown) and by enumerating the
  combinations of two or three unknowns (``<5`` is 1-4, ``[c]`` is 5 or more);
* inverting every derived column: rate x denominator, share x total, incidence x cohort size,
  ``at_risk x (1 - S / S_prev)`` on survival curves and CIF steps x at risk / S_prev.

A hidden count is recovered when one of these gives its true value exactly. The same attacker run
on the raw tables (``--no-suppress``) and on primary-only suppression (main's behaviour before this
module: 1-4 masked, nothing else) recovers counts, so the test can fail.
"""

from __future__ import annotations

import io
import itertools
import json
import warnings

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from cscflow.cli import cli

HIDDEN = ("<5", "[c]")
FLOW = ["stations", "conversion", "durations", "dfg", "variants", "caseload", "rereferrals", "nfa-by-prior",
        "s47-outcomes", "before-after"]
STATS = ["leaving-care", "routes", "rereferral", "referral-to-cp", "referral-to-care", "return-to-care",
         "incidence", "teams", "legal-orders", "sankey-legal", "sankey-front-door"]
CURVES = {"leaving-care", "rereferral", "referral-to-cp", "referral-to-care", "return-to-care"}

# The attacker's knowledge of each table: (kind, arguments). "group": rows sharing `by` have parts
# summing to the `total` column (or, total None, to a total known from a linked table); "row": in a
# row, total = parts (+ complement); "exact": in a row, total = parts (the stays counted end or stay open); "cum": cumulative over `order`; "balance": Sankey nodes.
STRUCTURE: dict[str, list[tuple]] = {
    "stations": [("row", "entered", ["left", "open"])],
    "conversion": [("group", ["source"], "n", "of")],
    "s47-outcomes": [("group", ["step"], "n", "of")],
    "durations": [("exact", "n", ["ended", "open"])],
    "dfg": [("group", ["source"], "transitions", None)],
    "variants": [("group", [], "cases", None)],
    "rereferrals": [("row", "referrals", ["within_12"]), ("row", "referrals", ["within_36"]),
                    ("row", "within_36", ["within_12"])],
    "nfa-by-prior": [("row", "assessments", ["nfa"])],
    "before-after": [("row", "stays", ["converted"])],
    "incidence": [("cum", ["birth_year"], "age", "children")],
    "teams": [("row", "denominator", ["numerator"]), ("group", [], "numerator", None),
              ("group", [], "denominator", None)],
    "legal-orders": [("group", ["year"], "proceedings", None)],
    "sankey-legal": [("balance", "children")],
    "sankey-front-door": [("balance", "children")],
    "km-summary": [("row", "children", ["events", "censored"]), ("group", [], "children", None)],
    "routes-summary": [("group", [], "leavers", None)],
}
# derived column -> (numerator, denominator); a name in place of a column is a group total
RATIOS: dict[str, list[tuple[str, str, str]]] = {
    "conversion": [("rate", "n", "of")],
    "s47-outcomes": [("share", "n", "of")],
    "rereferrals": [("rate_12", "within_12", "referrals"), ("rate_36", "within_36", "referrals")],
    "nfa-by-prior": [("rate", "nfa", "assessments")],
    "before-after": [("rate", "converted", "stays")],
    "variants": [("share", "cases", "=total")],
    "legal-orders": [("share", "proceedings", "=year")],
    "teams": [("value", "numerator", "denominator")],
    "incidence": [("incidence", "children", "cohort_size")],
}


@pytest.fixture(scope="module")
def county_ws(tmp_path_factory):
    root = tmp_path_factory.mktemp("attack")
    runner = CliRunner()
    r = runner.invoke(cli, ["synth", "--preset", "tiny", "--seed", "3", "--out", str(root / "files")])
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli, ["load", str(root / "ws"), str(root / "files"), "--la", "886", "--quiet"])
    assert r.exit_code == 0, r.output
    return root / "ws"


def _raw_flow(ws_path, table):
    from cscflow import Workspace
    from cscflow.journeys import flow
    from cscflow.journeys.maps import load_map
    from cscflow.journeys.windows import data_window

    with Workspace(ws_path, read_only=True) as ws:  # from the observation window, as the CLI counts by default
        kw = {"at": "2016-06-01", "source": "assessment", "target": "nfa"} if table == "before-after" else {}
        return flow.TABLES[table](ws, load_map("england", ws), start=data_window(ws)[1], **kw)


def _raw_stats(ws_path, name):
    from cscflow import Workspace
    from cscflow.analytics import run

    with Workspace(ws_path, read_only=True) as ws, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run(ws, name, **({"by": "entry_year"} if name == "leaving-care" else {}))


# ---------------------------------------------------------------------------------------------
# the attacker


def _is_hidden(v) -> bool:
    return isinstance(v, str) and v in HIDDEN


def _num(v) -> float | None:
    if v is None or _is_hidden(v) or (isinstance(v, str) and v.strip() == ""):
        return None
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return None if np.isnan(x) else x


def _counts(name: str) -> list[str]:
    """The count columns named by the attacker's structure of table ``name``."""
    out: list[str] = []
    for rel in STRUCTURE.get(name, []):
        if rel[0] in ("row", "exact"):
            out += [rel[1], *rel[2]]
        elif rel[0] == "group":
            out += [rel[2]] + ([rel[3]] if rel[3] else [])
        else:
            out.append(rel[-1])
    return out


def _relations(name: str, shown: pd.DataFrame, raw: pd.DataFrame) -> list[tuple[list, float]]:
    """Equations sum(coef * cell) = const; a cell is (row, column); complements and cumulative
    differences are extra unknown cells ("~", k) with their true values kept for the check."""
    eqs: list[tuple[list, float]] = []
    for rel in STRUCTURE.get(name, []):
        if rel[0] in ("row", "exact"):
            kind, total, parts = rel
            if total not in shown.columns or any(p not in shown.columns for p in parts):
                continue
            for i in range(len(shown)):
                terms = [((i, total), -1.0)] + [((i, p), 1.0) for p in parts]
                rest = [] if kind == "exact" else [(("~", f"{name}:{i}:{total}-{'+'.join(parts)}"), 1.0)]
                eqs.append((terms + rest, 0.0))
        elif rel[0] == "group":
            _, by, part, total = rel
            if part not in shown.columns:
                continue
            groups = shown.groupby(by, sort=False).indices.values() if by else [np.arange(len(shown))]
            for rows in groups:
                terms = [((int(i), part), 1.0) for i in rows]
                if total:
                    eqs.append((terms + [((int(rows[0]), total), -1.0)], 0.0))
                else:
                    known = float(pd.to_numeric(raw[part].iloc[rows], errors="coerce").sum())
                    if known == 0 or known >= 5:  # a linked table shows it
                        eqs.append((terms, known))
        elif rel[0] == "cum":
            _, by, order, col = rel
            for rows in shown.groupby(by, sort=False).indices.values():
                rows = sorted(rows, key=lambda i: shown[order].iloc[i])
                for a, b in itertools.pairwise(rows):
                    eqs.append(([((int(b), col), -1.0), ((int(a), col), 1.0), (("~", f"cum:{a}:{b}"), 1.0)], 0.0))
        elif rel[0] == "balance":
            col = rel[1]
            for node in set(shown["target"]) & set(shown["source"]):
                terms = [((i, col), 1.0) for i in np.flatnonzero(shown["target"] == node)]
                terms += [((i, col), -1.0) for i in np.flatnonzero(shown["source"] == node)]
                eqs.append((terms, 0.0))
    return eqs


def _truth(cell, raw: pd.DataFrame, eqs) -> float | None:
    if cell[0] != "~":
        return _num(raw[cell[1]].iloc[cell[0]])
    for terms, const in eqs:  # the complement's true value: what makes its equation hold
        if any(c == cell for c, _ in terms):
            rest = sum(coef * (_truth(c, raw, []) or 0.0) for c, coef in terms if c != cell)
            coef = dict(terms)[cell]
            return (const - rest) / coef
    return None


def attack(name: str, shown: pd.DataFrame, raw: pd.DataFrame) -> list[str]:
    """Every count of 1-4 (shown, hidden or implied) that the attacker gets exactly."""
    shown = shown.reset_index(drop=True)
    raw = raw.reset_index(drop=True)
    found: list[str] = []
    eqs = _relations(name, shown, raw)
    counts = set(_counts(name)) & set(shown.columns)
    counts |= {"at_risk", "events", "leavers", "children"} & set(shown.columns)
    # 1. small counts shown
    for col in counts:
        for i, v in enumerate(shown[col]):
            x = _num(v)
            if x is not None and 1 <= x <= 4:
                found.append(f"{name}: {col}[{i}] = {x:g} shown")
    # 2. differencing: peeling and enumeration
    known: dict = {}
    for i in range(len(shown)):
        for col in shown.columns:
            x = _num(shown[col].iloc[i])
            if x is not None:
                known[(i, col)] = x

    def small_true(cell) -> float | None:
        t = _truth(cell, raw, eqs)
        return t if t is not None and 1 <= t <= 4 and abs(t - round(t)) < 1e-9 else None

    def bound(cell):
        v = shown[cell[1]].iloc[cell[0]] if cell[0] != "~" else None
        return (1, 4) if v == "<5" else (5, None) if v == "[c]" else (0, None)

    changed = True
    while changed:
        changed = False
        for terms, const in eqs:
            unknown = [(c, coef) for c, coef in terms if c not in known]
            if not unknown or len(unknown) > 3:
                continue
            rest = const - sum(coef * known[c] for c, coef in terms if c in known)
            if len(unknown) == 1:
                (c, coef), = unknown
                known[c] = rest / coef
                changed = True
                continue
            # enumerate all but the last unknown within their bounds, solve the last
            ranges = []
            for c, _ in unknown[:-1]:
                lo, hi = bound(c)
                ranges.append(range(int(lo), int(min(hi or 10**9, abs(rest) + 5)) + 1))
            if any(len(r) > 400 for r in ranges):
                continue
            last, lcoef = unknown[-1]
            llo, lhi = bound(last)
            sols = []
            for combo in itertools.product(*ranges):
                v = (rest - sum(coef * x for (c, coef), x in zip(unknown[:-1], combo, strict=True))) / lcoef
                if v >= llo - 1e-9 and (lhi is None or v <= lhi + 1e-9) and abs(v - round(v)) < 1e-9:
                    sols.append((*combo, v))
            if not sols:
                continue
            for k, (c, _) in enumerate(unknown):
                vals = {round(s[k], 6) for s in sols}
                if len(vals) == 1 and c not in known:
                    known[c] = vals.pop()
                    changed = True
    for cell, v in known.items():
        hidden_cell = cell[0] == "~" or _is_hidden(shown[cell[1]].iloc[cell[0]])
        t = small_true(cell)
        if hidden_cell and t is not None and abs(v - t) < 1e-6:
            found.append(f"{name}: {cell} = {t:g} recovered by differencing")
    # 3. inverting ratios
    for col, num, den in RATIOS.get(name, []):
        if col not in shown.columns or num not in shown.columns:
            continue
        for i in range(len(shown)):
            r = _num(shown[col].iloc[i])
            if r is None:
                continue
            n_true = _num(raw[num].iloc[i])
            if den.startswith("="):  # a group total: from any row of the group with count and share shown
                grp = np.arange(len(shown)) if den == "=total" else np.flatnonzero(shown["year"] == shown["year"].iloc[i])
                tot = [_num(shown[num].iloc[j]) / _num(shown[col].iloc[j]) for j in grp
                       if _num(shown[num].iloc[j]) and _num(shown[col].iloc[j])]
                d = tot[0] if tot else None
            else:
                d = _num(shown[den].iloc[i]) if den in shown.columns else None
            small = n_true is not None and 1 <= n_true <= 4
            if _is_hidden(shown[num].iloc[i]) and d is not None and small and abs(r * d - n_true) < 1e-6:
                found.append(f"{name}: {num}[{i}] = {n_true:g} from {col} x {den}")
    return found


def attack_curve(name: str, shown: pd.DataFrame, raw: pd.DataFrame) -> list[str]:
    """at_risk x (1 - S/S_prev) (Kaplan-Meier) or dF x at_risk / S_prev (CIF) on consecutive shown
    rows, against the true events of 1-4 at that time; and small event counts shown."""
    found = []
    cif = "route" in shown.columns
    y, grp = ("cumulative_incidence", "route") if cif else ("survival", "group" if "group" in shown.columns else None)
    s = shown.assign(**{c: pd.to_numeric(shown[c], errors="coerce") for c in ("time", y, "at_risk", "events")})
    for v in s["events"].dropna():
        if 1 <= v <= 4:
            found.append(f"{name}: events = {v:g} shown")
    parts = s.groupby(grp, sort=False) if grp else [(None, s)]
    raw_parts = dict(list(raw.groupby(grp, sort=False))) if grp else {None: raw}
    if cif:  # the attacker's all-cause survival just before each shown time: 1 - sum of the routes' CIF
        wide = s.pivot_table(index="time", columns="route", values=y, aggfunc="last").sort_index().ffill().fillna(0)
        surv = 1 - wide.sum(axis=1)
    for label, g in parts:
        g = g.sort_values("time")
        truth = raw_parts[label].set_index("time")["events"]
        for (_, a), (_, b) in itertools.pairwise(g.iterrows()):
            if np.isnan(b["at_risk"]) or b["time"] not in truth.index:
                continue
            d_true = float(truth.loc[b["time"]])
            if not 1 <= d_true <= 4:
                continue
            if cif:
                prev = surv[surv.index < b["time"]]
                s_prev = prev.iloc[-1] if len(prev) else 1.0
                est = (b[y] - a[y]) * b["at_risk"] / s_prev if s_prev > 0 else np.nan
            else:
                est = b["at_risk"] * (1 - b[y] / a[y]) if a[y] > 0 else np.nan
            if abs(est - d_true) < 1e-6:
                found.append(f"{name}[{label}] t={b['time']:g}: {d_true:g} events recovered")
    return found


def _read_csv(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), comment="#", dtype=str, keep_default_na=False)


def _primary_only(raw: pd.DataFrame, cols) -> pd.DataFrame:
    """main's behaviour before this module: 1-4 masked in the count columns, nothing else."""
    out = raw.astype(object).copy()
    for c in cols:
        if c in out.columns:
            v = pd.to_numeric(raw[c], errors="coerce")
            out.loc[(v >= 1) & (v <= 4), c] = "<5"
    return out


def _raw_km(result) -> pd.DataFrame:
    return result.table


# ---------------------------------------------------------------------------------------------
# the paths


def _pooled(raw, table):
    """The rows a disclosed table stands for: a table whose categories come from the data has its rare rows pooled
    into one (the attacker's target is that row's true count, the sum)."""
    from cscflow.disclosure import pool_rare, spec

    pool = spec(table).pool
    return raw if pool is None else pool_rare(raw, pool)


@pytest.mark.parametrize("table", FLOW)
def test_cli_flow_outputs_give_nothing_back(county_ws, tmp_path, table):
    raw = _pooled(_raw_flow(county_ws, table), table)
    extra = ["--at", "2016-06-01"] if table == "before-after" else []
    out = tmp_path / f"{table}.csv"
    r = CliRunner().invoke(cli, ["flow", str(county_ws), table, "--out", str(out), *extra])
    assert r.exit_code == 0, r.output
    text = out.read_text()
    assert text.startswith("# cscflow ") and "# Method: " in text and "# Data: " in text
    assert "# Disclosure control: counts of 1 to 4 shown as <5" in text
    csv = _read_csv(text)
    assert len(csv) == len(raw)
    assert attack(table, csv, raw) == []
    r = CliRunner().invoke(cli, ["flow", str(county_ws), table, "--json", *extra])
    body = json.loads(r.output)
    assert body["suppressed"] and body["header"][-1].startswith("Disclosure control")
    js = pd.DataFrame(body["rows"], columns=body["columns"])
    assert attack(table, js, raw) == []
    if table != "caseload":  # the printed table is the same disclosed table
        printed = CliRunner().invoke(cli, ["flow", str(county_ws), table, *extra]).output
        assert "Disclosure control" in printed
        table_text = "\n".join(printed.splitlines()[len(body["header"]):])
        assert ("<5" in table_text) == bool(csv.isin(["<5"]).any().any())


def test_rare_paths_are_named_nowhere(county_ws, tmp_path):
    """A path taken by 1-4 children, named in full, shows that such a child exists: the disclosed variants pool
    them into one row whose count is their sum; --no-suppress (internal use) lists them."""
    raw = _raw_flow(county_ws, "variants")
    rare = raw.loc[raw["cases"].between(1, 4), "variant"]
    assert len(rare) > 10
    out = tmp_path / "variants.csv"
    CliRunner().invoke(cli, ["flow", str(county_ws), "variants", "--out", str(out)])
    csv = _read_csv(out.read_text())
    assert not set(rare) & set(csv["variant"])
    assert set(csv["variant"]) - set(raw["variant"]) == {"(other paths, each taken by fewer than 5 children)"}
    other = csv[csv["variant"].str.startswith("(other")]
    assert int(other["cases"].iloc[0]) == raw.loc[raw["cases"] < 5, "cases"].sum()
    assert "Rare rows pooled" in out.read_text()
    CliRunner().invoke(cli, ["flow", str(county_ws), "variants", "--out", str(out), "--no-suppress"])
    assert set(rare) <= set(_read_csv(out.read_text())["variant"])


@pytest.mark.parametrize("table", FLOW)
def test_the_attack_recovers_counts_from_unsuppressed_flow_tables(county_ws, tmp_path, table):
    """The attacker is not toothless: --no-suppress gives small counts away, and so does masking 1-4
    alone (main before this module) through the `of` columns, partitions, complements and rates."""
    raw = _raw_flow(county_ws, table)
    extra = ["--at", "2016-06-01"] if table == "before-after" else []
    out = tmp_path / f"{table}.csv"
    r = CliRunner().invoke(cli, ["flow", str(county_ws), table, "--out", str(out), "--no-suppress", *extra])
    assert "NOT SUPPRESSED" in r.output and "# NOT SUPPRESSED: internal use only" in out.read_text()
    small = any(((pd.to_numeric(raw[c], errors="coerce") >= 1) & (pd.to_numeric(raw[c], errors="coerce") <= 4)).any()
                for c in raw.columns if c in {"n", "of", "transitions", "cases", "children", "entered", "nfa",
                                              "within_12", "within_36", "assessments", "ended", "open"})
    assert bool(attack(table, _read_csv(out.read_text()), raw)) == small
    if table in ("conversion", "durations", "dfg", "variants", "rereferrals", "nfa-by-prior", "s47-outcomes"):
        leaks = attack(table, _primary_only(raw, _counts(table)), raw)
        assert leaks and all("shown" not in x for x in leaks), leaks


@pytest.mark.parametrize("name", STATS)
def test_cli_stats_outputs_give_nothing_back(county_ws, tmp_path, name):
    res = _raw_stats(county_ws, name)
    opts = ["--by", "entry_year"] if name == "leaving-care" else []
    out = tmp_path / f"{name}.csv"
    r = CliRunner().invoke(cli, ["stats", str(county_ws), name, "--out", str(out), *opts])
    assert r.exit_code == 0, r.output
    text = out.read_text()
    assert text.startswith("# cscflow ") and "# Method: " in text and "# Disclosure control" in text
    csv = _read_csv(text)
    check = attack_curve if name in CURVES or name == "routes" else attack
    assert check(name, csv, res.table) == []
    jpath = tmp_path / f"{name}.json"
    CliRunner().invoke(cli, ["stats", str(county_ws), name, "--out", str(jpath), *opts])
    body = json.loads(jpath.read_text())
    assert check(name, pd.DataFrame(body["rows"], columns=body["columns"]), res.table) == []
    summary_name = {"routes": "routes-summary"}.get(name, "km-summary" if name in CURVES else name)
    assert attack(summary_name, pd.DataFrame(body["summary"]), res.summary) == []
    printed = CliRunner().invoke(cli, ["stats", str(county_ws), name, *opts]).output
    assert "Disclosure control" in printed and "Method:" in printed
    # the figure is drawn from the disclosed table and names its method
    html = tmp_path / f"{name}.html"
    CliRunner().invoke(cli, ["stats", str(county_ws), name, "--out", str(html), *opts])
    page = html.read_text()
    assert "Disclosure control" in page and "Method:" in page
    fig = res.figure
    if name in CURVES or name == "routes":
        ycol = "cumulative_incidence" if name == "routes" else "survival"
        pts = {(round(float(t), 6), round(float(v), 9)) for t, v in zip(csv["time"], csv[ycol], strict=True)}
        for tr in fig.data:
            if tr.name and tr.x is not None:
                assert {(round(float(t), 6), round(float(v), 9)) for t, v in zip(tr.x, tr.y, strict=True)} <= pts
    if name.startswith("sankey"):
        drawn = sorted(int(v) for tr in fig.data for v in tr.link.value)
        shown = sorted(int(v) for v in pd.to_numeric(csv["children"], errors="coerce").dropna() if v >= 5)
        assert drawn == shown and "not shown" not in (fig.layout.title.text or "")


@pytest.mark.parametrize("name", ["leaving-care", "routes", "rereferral", "incidence", "legal-orders",
                                  "sankey-front-door"])
def test_the_attack_recovers_counts_from_unsuppressed_stats(county_ws, name):
    res = _raw_stats(county_ws, name)
    if name in CURVES or name == "routes":
        raw = res.table.astype(object)
        assert attack_curve(name, raw, res.table)  # --no-suppress: everything comes back
        if name != "leaving-care":  # (its groups are so small that masking at_risk hides them too)
            masked = _primary_only(res.table, ["at_risk", "events"])
            leaks = attack_curve(name, masked, res.table)  # main: 1-4 masked, at_risk of 5+ kept
            assert leaks and all("shown" not in x for x in leaks), leaks
    else:
        assert attack(name, res.table.astype(object), res.table)
    d = res.disclose(suppressed=False)
    assert d.header[-1].startswith("NOT SUPPRESSED: internal use only")
    assert "NOT SUPPRESSED: internal use only" in res.figure_for(False).layout.title.text


@pytest.mark.parametrize("table", FLOW)
def test_web_flow_json_and_csv_give_nothing_back(county_ws, table):
    from fastapi.testclient import TestClient

    from cscflow.web import create_app

    raw = _raw_flow(county_ws, table)
    name = table.replace("-", "_")
    q = {"date": "2016-06-01"} if table == "before-after" else {}
    app = create_app(county_ws)
    try:
        with TestClient(app, base_url="http://127.0.0.1") as client:
            body = client.get(f"/api/flow/{name}", params=q).json()
            assert body["suppressed"] and "Disclosure control" in body["caption"]
            assert attack(table, pd.DataFrame(body["rows"], columns=body["columns"]), raw) == []
            text = client.get(f"/api/flow/{name}", params={**q, "format": "csv"}).text
            assert text.startswith("# cscflow ")
            assert attack(table, _read_csv(text), raw) == []
            off = client.get(f"/api/flow/{name}", params={**q, "suppress": "false"}).json()
            assert not off["suppressed"] and "NOT SUPPRESSED" in off["caption"]
    finally:
        app.state.cscflow.close()


def test_web_stats_json_csv_and_figures_give_nothing_back(county_ws):
    from fastapi.testclient import TestClient

    from cscflow.web import create_app

    app = create_app(county_ws)
    try:
        with TestClient(app, base_url="http://127.0.0.1") as client:
            for name in STATS:
                res = _raw_stats(county_ws, name)
                q = {"by": "entry_year"} if name == "leaving-care" else {}
                body = client.get(f"/api/stats/{name}", params=q).json()
                check = attack_curve if name in CURVES or name == "routes" else attack
                assert check(name, pd.DataFrame(body["rows"], columns=body["columns"]), res.table) == [], name
                summary_name = {"routes": "routes-summary"}.get(name, "km-summary" if name in CURVES else name)
                assert attack(summary_name, pd.DataFrame(body["summary"]), res.summary) == [], name
                notes = [a["text"] for a in body["figure"]["layout"].get("annotations", [])]
                assert any("Disclosure control" in t for t in notes), name
                text = client.get(f"/api/stats/{name}", params={**q, "format": "csv"}).text
                assert check(name, _read_csv(text), res.table) == [], name
    finally:
        app.state.cscflow.close()
