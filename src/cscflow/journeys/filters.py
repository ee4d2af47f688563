"""Cohort and period filters shared by timelines, tracks and every flow table.

``where`` is a dict ``{column: value or [values]}`` over:

- child attributes (from ``children``): ``sex`` ('F', 'M', 'U'), ``ethnicity`` (a DfE code such as
  'WBRI', or a group: White, Mixed, Asian, Black, Other, Unknown), ``disability`` and ``uasc``
  (true/false);
- row attributes: ``age_band`` (age at the start of the stay: Unborn, Under 1, 1-4, 5-9, 10-15, 16+,
  Unknown; DfE CIN census bands), ``team`` (the stay's team), ``repeat`` (episode-of-need number; '3+'
  means 3 or more);
- need attributes: ``referral_source`` (the ``referral_source`` code in the attrs of the need's
  referral stay).

>>> parse_where(["sex=F", "repeat=2", "repeat=3"])
{'sex': ['F'], 'repeat': ['2', '3']}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ibis
import pandas as pd

from cscflow.errors import AnalysisError

if TYPE_CHECKING:
    from cscflow.workspace.protocol import WorkspaceLike

COHORT_COLUMNS = ("sex", "ethnicity", "age_band", "disability", "uasc", "team", "referral_source", "repeat", "la")

SEX_LABELS = ["F", "M", "U"]
ETHNICITY_GROUPS = ["White", "Mixed", "Asian", "Black", "Other", "Unknown"]
AGE_BANDS = ["Unborn", "Under 1", "1-4", "5-9", "10-15", "16+", "Unknown"]
YES_NO = ["No", "Yes", "Unknown"]

_GROUP_OF_LETTER = {"W": "White", "M": "Mixed", "A": "Asian", "B": "Black", "O": "Other", "C": "Other"}


def ethnicity_group(code: Any) -> str:
    """The major group of a DfE ethnicity code (REFU / NOBT / missing are Unknown).

    >>> ethnicity_group("WBRI"), ethnicity_group("MWBC"), ethnicity_group("NOBT"), ethnicity_group(None)
    ('White', 'Mixed', 'Unknown', 'Unknown')
    """
    if not isinstance(code, str) or not code.strip():
        return "Unknown"
    code = code.strip().upper()
    if code in ("REFU", "NOBT"):
        return "Unknown"
    return _GROUP_OF_LETTER.get(code[0], "Unknown")


def ethnicity_group_expr(code: ibis.Value) -> ibis.Value:
    """:func:`ethnicity_group` as an Ibis expression."""
    c = code.strip().upper()
    first = c.substr(0, 1)
    return (
        ibis.cases(
            (c.isnull() | c.isin(["REFU", "NOBT", ""]), "Unknown"),
            (first == "W", "White"),
            (first == "M", "Mixed"),
            (first == "A", "Asian"),
            (first == "B", "Black"),
            (first.isin(["O", "C"]), "Other"),
            else_="Unknown",
        )
    )


def age_band_expr(birth_month: ibis.Value, on: ibis.Value) -> ibis.Value:
    """DfE age band of a child born in ``birth_month`` on date ``on`` (Ibis expressions)."""
    months = (on.year() - birth_month.year()) * 12 + (on.month() - birth_month.month())
    years = (months / 12).floor()
    return ibis.cases(
        (birth_month.isnull(), "Unknown"),
        (months < 0, "Unborn"),
        (years < 1, "Under 1"),
        (years < 5, "1-4"),
        (years < 10, "5-9"),
        (years < 16, "10-15"),
        else_="16+",
    )


def age_band(birth_month: Any, on: Any) -> str:
    """:func:`age_band_expr` in Python, for one child.

    >>> age_band(pd.Timestamp("2020-02-01"), pd.Timestamp("2024-02-29"))
    '1-4'
    """
    if birth_month is None or pd.isna(birth_month):
        return "Unknown"
    b, d = pd.Timestamp(birth_month), pd.Timestamp(on)
    months = (d.year - b.year) * 12 + d.month - b.month
    if months < 0:
        return "Unborn"
    years = months // 12
    for limit, label in ((1, "Under 1"), (5, "1-4"), (10, "5-9"), (16, "10-15")):
        if years < limit:
            return label
    return "16+"


def parse_where(items: list[str] | tuple[str, ...]) -> dict[str, list[str]]:
    """``["sex=F", "team=North"]`` (the CLI's ``--where``) as a filter dict."""
    out: dict[str, list[str]] = {}
    for item in items:
        if "=" not in item:
            raise AnalysisError(f"--where {item!r} is not COLUMN=VALUE", hint="write e.g. --where sex=F")
        col, value = item.split("=", 1)
        out.setdefault(col.strip(), []).append(value.strip())
    return out


def _values(where: dict[str, Any], col: str) -> list[Any]:
    v = where[col]
    return list(v) if isinstance(v, list | tuple | set) else [v]


def _truth(value: Any, col: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "y", "1"):
        return True
    if text in ("false", "no", "n", "0"):
        return False
    raise AnalysisError(f"filter {col}={value!r} is not true or false", hint=f"write {col}=true or {col}=false")


def check_where(where: dict[str, Any] | None) -> dict[str, Any]:
    """Refuse unknown filter columns, with the list of known ones."""
    where = dict(where or {})
    for col in where:
        if col not in COHORT_COLUMNS:
            raise AnalysisError(
                f"cannot filter on {col!r}", hint=f"filter columns are {', '.join(COHORT_COLUMNS)}"
            )
    return where


def referral_sources(ws: WorkspaceLike) -> ibis.Table:
    """(rs_child, rs_need, referral_source) from the attrs of each need's referral stay."""
    ep = ws.table("episodes")
    r = ep.filter((ep.stage == "referral") & ep.need_id.notnull())
    src = r.attrs.re_extract(r'"referral_source"\s*:\s*"?([^",}]*)"?', 1)
    r = r.select(rs_child=r.child_id, rs_need=r.need_id, referral_source=src)
    return r.group_by(["rs_child", "rs_need"]).aggregate(referral_source=r.referral_source.min())


def apply_where(ws: WorkspaceLike, rows: ibis.Table, where: dict[str, Any] | None) -> ibis.Table:
    """Keep the timeline ``rows`` that match ``where`` (columns as in a timeline: child_id, need_id, ...)."""
    where = check_where(where)
    if not where:
        return rows
    cols = list(rows.columns)
    t = rows
    child_cols = {"sex", "ethnicity", "disability", "uasc", "age_band", "la"} & set(where)
    if child_cols:
        ch = ws.table("children")
        ch = ch.select(f_child=ch.child_id, f_sex=ch.sex, f_eth=ch.ethnicity, f_dis=ch.disability,
                       f_uasc=ch.uasc, f_birth=ch.birth_month, f_la=ch.la)
        t = t.left_join(ch, t.child_id == ch.f_child)
    conds = []
    for col in where:
        vals = _values(where, col)
        if col == "sex":
            conds.append(t.f_sex.fill_null("U").isin([str(v).upper() for v in vals]))
        elif col == "ethnicity":
            vals = [str(v) for v in vals]
            conds.append(t.f_eth.isin([v.upper() for v in vals]) | ethnicity_group_expr(t.f_eth).isin(vals))
        elif col in ("disability", "uasc"):
            c = t.f_dis if col == "disability" else t.f_uasc
            conds.append(c.isin([_truth(v, col) for v in vals]))
        elif col == "age_band":
            conds.append(age_band_expr(t.f_birth, t.start).isin([str(v) for v in vals]))
        elif col == "team":
            conds.append(t.team.isin([str(v) for v in vals]))
        elif col == "la":
            conds.append(t.f_la.isin([str(v).strip() for v in vals]))
        elif col == "repeat":
            conds.append(_repeat_condition(t.repeat, vals))
        elif col == "referral_source":
            rs = referral_sources(ws)
            t = t.left_join(rs, [t.child_id == rs.rs_child, t.need_id == rs.rs_need])
            conds.append(t.referral_source.isin([str(v) for v in vals]))
    return t.filter(*conds).select(*cols)


def _repeat_values(vals: list[Any]) -> tuple[list[int], list[int]]:
    """(exact numbers, at-least numbers) of repeat filter values ('2', '3+')."""
    exact, at_least = [], []
    for v in vals:
        text = str(v).strip()
        try:
            if text.endswith("+"):
                at_least.append(int(text[:-1]))
            else:
                exact.append(int(text))
        except ValueError:
            raise AnalysisError(f"filter repeat={v!r} is not a number", hint="write repeat=1 or repeat=3+") from None
    return exact, at_least


def _repeat_condition(col: ibis.Value, vals: list[Any]) -> ibis.Value:
    exact, at_least = _repeat_values(vals)
    cond = col.isin(exact) if exact else ibis.literal(False)
    for n in at_least:
        cond = cond | (col >= n)
    return cond


def _repeat_condition_np(repeat: Any, vals: list[Any]) -> Any:
    """:func:`_repeat_condition` on a numpy array of episode numbers."""
    import numpy as np

    exact, at_least = _repeat_values(vals)
    cond = np.isin(repeat, exact)
    for n in at_least:
        cond |= repeat >= n
    return cond
