"""The one registry of table structures that disclosure control reads.

Every table cscflow exports (the flow tables, each analysis's table and summary) is declared here:
which columns are counts of children or events, which cells repeat one count over several rows,
which counts add up to which totals (so that a hidden cell cannot be found by subtraction), and
which columns are computed from which counts (so that they are blanked with them). Nothing is
guessed from dtypes: a table that is not declared cannot be disclosed
(:func:`spec` raises :class:`~cscflow.errors.AnalysisError`).

>>> spec("conversion").counts
('n', 'of')
>>> spec("nfa-by-prior") is spec("nfa_by_prior")
True
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cscflow.errors import AnalysisError


@dataclass(frozen=True)
class Total:
    """Within each group of rows sharing ``by``, the cells of ``part`` add up to ``total`` (a column
    whose cell repeats on every row of the group), or, when ``total`` is None, to a total the reader
    can learn elsewhere (a linked table, a published figure): treated as known."""

    part: str
    by: tuple[str, ...] = ()
    total: str | None = None
    #: (column, label) of a row holding the total of the other rows (e.g. ``("year", "all")``)
    total_row: tuple[str, str] | None = None


@dataclass(frozen=True)
class RowSum:
    """In each row ``total`` = sum of ``parts``; with ``remainder`` the rest (``total`` minus the
    parts, e.g. the referrals not re-referred) is an unpublished count that is protected too."""

    total: str
    parts: tuple[str, ...]
    remainder: bool = False


@dataclass(frozen=True)
class Cumulative:
    """``column`` accumulates over ``order`` within ``by``: the difference between successive rows
    (children first entering between two ages) is an unpublished count that is protected too."""

    column: str
    by: tuple[str, ...]
    order: str


@dataclass(frozen=True)
class Balance:
    """Flow conservation: for every node that is both a ``target`` and a ``source`` (a middle step of a
    Sankey), the ``column`` of the links into it sums to that of the links out of it."""

    column: str
    into: str = "target"
    out_of: str = "source"


Relation = Total | RowSum | Cumulative | Balance


@dataclass(frozen=True)
class Pool:
    """Rows whose categories come from the data (a path of stations), not from a list fixed in advance: a row
    with a ``count`` of 1 to threshold - 1 would show that such a category exists (one child's rare journey,
    named in full), so those rows become one row, ``label`` (formatted with the ``threshold``) in ``category``, with their counts and the
    ``sums`` columns added up and the other columns left blank."""

    category: str
    count: str
    label: str
    sums: tuple[str, ...] = ()


@dataclass(frozen=True)
class Spec:
    """How one table is built: see the module docstring.

    ``counts``: columns holding counts (primary suppression of 1-4). ``keys``: count column -> the
    columns naming its cell when one count repeats over rows (``of`` per source). ``relations``:
    the additive structure. ``derived``: column -> the counts it is computed from (``"*"``: every
    count of the table), blanked where any of them is hidden. ``curve``: ``"km"`` or ``"cif"`` when
    the table is a step curve coarsened before suppression. ``published``: statistics already
    published (DfE tables), passed through. ``pool``: rare rows of categories found in the data, pooled
    (:class:`Pool`)."""

    description: str
    counts: tuple[str, ...] = ()
    keys: dict[str, tuple[str, ...]] = field(default_factory=dict)
    relations: tuple[Relation, ...] = ()
    derived: dict[str, tuple[str, ...]] = field(default_factory=dict)
    curve: str | None = None
    published: bool = False
    pool: Pool | None = None


_KM = Spec("Kaplan-Meier curve", counts=("at_risk", "events"), curve="km")
_KM_SUMMARY = Spec(
    "Kaplan-Meier summary, one row per group",
    counts=("children", "events", "censored"),
    relations=(RowSum("children", ("events", "censored")), Total("children"), Total("events"), Total("censored")),
    derived={"median": ("children", "events"), "median_lower": ("children", "events"),
             "median_upper": ("children", "events"), "logrank_p": ("*",)},
)
_FUNNEL_TEAMS = Spec(
    "funnel of the LA's teams",
    counts=("numerator", "denominator"),
    relations=(RowSum("denominator", ("numerator",), remainder=True), Total("numerator"), Total("denominator")),
    derived={"value": ("numerator", "denominator"), "z": ("numerator", "denominator"),
             "flag": ("numerator", "denominator"), "lower95": ("denominator",), "upper95": ("denominator",),
             "lower998": ("denominator",), "upper998": ("denominator",)},
)
_SANKEY = Spec("Sankey links", counts=("children",), relations=(Balance("children"),))
#: cause categories of reviewed breaches (cscflow.practices.reviews.CAUSES)
_CAUSES = ("capacity", "scheduling", "partner_agency", "family_engagement", "recording", "process", "other")

SPECS: dict[str, Spec] = {
    # flow tables (cscflow.journeys.flow)
    "stations": Spec("stays and children per station", counts=("entered", "children_entered", "left", "open"),
                     relations=(RowSum("entered", ("left", "open")),)),
    "conversion": Spec("where stays at each station went next", counts=("n", "of"), keys={"of": ("source",)},
                       relations=(Total("n", ("source",), "of"),),
                       derived={"rate": ("n", "of")}),
    "durations": Spec("time in and between stations", counts=("n", "ended", "open"),
                      keys={c: ("kind", "source", "target") for c in ("n", "ended", "open")},
                      relations=(RowSum("n", ("ended", "open")),),
                      derived={c: ("n", "ended") for c in ("q1", "median", "q3", "mean")}),
    "dfg": Spec("transitions between stations", counts=("transitions", "cases"),
                relations=(Total("transitions", ("source",)),),
                derived={"mean_days": ("transitions",), "median_days": ("transitions",)}),
    "variants": Spec("journeys (variants)", counts=("cases",), relations=(Total("cases"),),
                     derived={"share": ("cases",)},
                     pool=Pool("variant", "cases", "(other paths, each taken by fewer than {threshold} children)", ("share",))),
    "caseload": Spec("children at each station over time", counts=("children",)),
    "rereferrals": Spec("re-referrals within 12 and 36 months", counts=("referrals", "within_12", "within_36"),
                        relations=(*(Total(c, total_row=("year", "all")) for c in ("referrals", "within_12",
                                                                                   "within_36")),
                                   RowSum("referrals", ("within_12",), remainder=True),
                                   RowSum("within_36", ("within_12",), remainder=True),
                                   RowSum("referrals", ("within_36",), remainder=True)),
                        derived={"rate_12": ("within_12", "referrals"), "rate_36": ("within_36", "referrals")}),
    "nfa_by_prior": Spec("assessments ending in NFA by prior referrals", counts=("assessments", "nfa"),
                         relations=(RowSum("assessments", ("nfa",), remainder=True),
                                    *(Total(c, total_row=("previous_referrals", "all")) for c in ("assessments",
                                                                                                "nfa"))),
                         derived={"rate": ("nfa", "assessments")}),
    "s47_outcomes": Spec("outcomes of strategy discussions, section 47 enquiries and ICPCs", counts=("n", "of"),
                         keys={"of": ("step",)}, relations=(Total("n", ("step",), "of"),),
                         derived={"share": ("n", "of")}),
    "before_after": Spec("a conversion before and after an event", counts=("stays", "converted"),
                         relations=(RowSum("stays", ("converted",), remainder=True),),
                         derived={"rate": ("converted", "stays"), "difference": ("*",), "z": ("*",),
                                  "p_z": ("*",), "p_fisher": ("*",)}),
    # analyses (cscflow.analytics.run): tables
    "leaving-care": _KM, "rereferral": _KM, "referral-to-cp": _KM, "referral-to-care": _KM, "return-to-care": _KM,
    "routes": Spec("cumulative incidence of routes out of care", counts=("at_risk", "events"), curve="cif"),
    "incidence": Spec("cumulative incidence by birth cohort", counts=("children",),
                      relations=(Cumulative("children", ("birth_year",), "age"),),
                      derived={"incidence": ("children",), "per_1000": ("children",)}),
    "funnel": Spec("funnel of all LAs (published DfE figures)", published=True),
    "benchmark": Spec("the LA against comparators (published DfE figures)", published=True),
    "teams": _FUNNEL_TEAMS,
    "legal-orders": Spec("final legal orders by year", counts=("proceedings",),
                         relations=(Total("proceedings", ("year",)),), derived={"share": ("proceedings",)}),
    "sankey-legal": _SANKEY, "sankey-front-door": _SANKEY,
    # care proceedings after linkage (cscflow.linkage.analyses)
    "proceedings-stage": Spec("CSC stage at application and final order", counts=("proceedings",),
                              relations=(Total("proceedings", ("moment",)),), derived={"share": ("proceedings",)}),
    "proceedings-never-looked-after": Spec(
        "proceedings never looked after by year", counts=("proceedings", "never_looked_after"),
        relations=(RowSum("proceedings", ("never_looked_after",), remainder=True),
                   *(Total(c, total_row=("year", "all")) for c in ("proceedings", "never_looked_after"))),
        derived={"share": ("never_looked_after", "proceedings")}),
    "proceedings-duration": Spec(
        "proceedings against the 26-week limit", counts=("concluded", "within_26_weeks"),
        relations=(RowSum("concluded", ("within_26_weeks",), remainder=True),
                   *(Total(c, ("year",), total_row=("court", "all")) for c in ("concluded", "within_26_weeks"))),
        derived={"share_within": ("within_26_weeks", "concluded"), "median_weeks": ("concluded",)}),
    "proceedings-return": _KM,
    # key practices (cscflow.practices): clocks per child (pseudonymised ids, no counts), sums, SPC
    "practices-clocks": Spec("clocks of the key practices, one row per child's clock (pseudonymised ids)"),
    "practices-summary": Spec(
        "key-practice clocks due, met and late by month or team", counts=("due", "met", "late", "overdue"),
        relations=(RowSum("due", ("met", "late")), RowSum("late", ("overdue",), remainder=True),
                   *(Total(c, ("rule",)) for c in ("due", "met", "late", "overdue"))),
        derived={"breach_rate": ("late", "due")}),
    "practices-spc": Spec(
        "p-chart of a key practice's monthly breach rate", counts=("n", "late"),
        relations=(RowSum("n", ("late",), remainder=True), Total("n"), Total("late")),
        derived={"p": ("late", "n"), "lower": ("n",), "upper": ("n",), "signal": ("late", "n")}),
    "practices-teams": _FUNNEL_TEAMS,
    "practices-reviews": Spec(
        "key-practice breaches reviewed, by cause and month",
        counts=("late", "reviewed", "unreviewed", *_CAUSES),
        relations=(RowSum("reviewed", _CAUSES), RowSum("late", ("reviewed", "unreviewed")),
                   *(Total(c, ("rule",)) for c in ("late", "reviewed", "unreviewed", *_CAUSES)))),
    # the Timescales page's list of breaches to review: child-level for the LA's own use, no counts; the notes and
    # actions (free text) are in it only for a client on the machine that holds the workspace, never in a file
    "practices-breaches": Spec("breached and overdue clocks of a key practice with their review, one row per "
                               "child's clock (pseudonymised ids)"),
    # analyses: summaries
    "km-summary": _KM_SUMMARY,
    "routes-summary": Spec("routes out of care, leavers per route", counts=("leavers",),
                           relations=(Total("leavers"),),
                           derived={"cumulative_incidence": ("leavers",), "standard_error": ("leavers",)}),
    # forecasts (cscflow.forecast): modelled figures are not counts of children; a backtest's actuals are
    # (a short-horizon forecast of a caseload is close to the count open at the origin: small values hidden)
    "forecast": Spec("forecast of a measure: median and intervals of simulations of the fitted model",
                     counts=("forecast", "lower80", "upper80", "lower95", "upper95")),
    "forecast-backtest": Spec("backtest: actual monthly counts beside each method's forecast", counts=("actual",),
                              keys={"actual": ("origin", "month")}),
    # spend: modelled activity (days, plan months, starts) times unit costs; an item's spend is hidden with its
    # activity (a spend divided by its unit cost gives the activity back)
    # fitted synthetic data (cscflow.synth.from_workspace): the original's counts beside the synthetic's
    "synth-fidelity": Spec("fidelity of fitted synthetic data: the original and the synthetic side by side",
                           counts=("original_n", "synthetic_n"),
                           relations=(Total("original_n", ("check", "station")),
                                      Total("synthetic_n", ("check", "station"))),
                           derived={"original": ("original_n",), "synthetic": ("synthetic_n",),
                                    "difference": ("original_n", "synthetic_n")}),
    "synth-privacy": Spec("privacy of fitted synthetic data: copies of real children and distance to the "
                          "closest record", counts=("children", "matches"),
                          derived={"share": ("matches", "children")}),
    # a fitted model's diagnostics: the observed stays of each route (their share and median days come from them)
    # beside the simulated ones (modelled, not counts of children)
    "forecast-diagnostics": Spec("diagnostics of a fitted model: where stays went next and how long they lasted, "
                                 "observed in the year before the origin beside simulated in the year after",
                                 counts=("observed_stays",), relations=(Total("observed_stays", ("station",)),),
                                 derived={"observed_share": ("observed_stays",),
                                          "observed_median_days": ("observed_stays",)}),
    "forecast-history": Spec("observed monthly counts of a forecast measure before the forecast origin",
                             counts=("actual",)),
    "forecast-spend": Spec("spend of a forecast: median and intervals of each simulation's activity times unit costs",
                           counts=("activity",),
                           derived={c: ("activity",) for c in ("forecast", "lower80", "upper80", "lower95",
                                                               "upper95")}),
}


#: What each flow table counts (the first sentence of its method line).
FLOW_METHODS: dict[str, str] = {
    "stations": "Per station of the process map: stays beginning in the period (a stay is a child's time at one "
                "station, overlapping stages resolved by the map's precedence), the children among them, stays "
                "ending in the period and children there at its end (open).",
    "conversion": "Where stays beginning at each station in the period went next: n of the source's `of` stays "
                  "had the target as the child's next station ('(open)' still there, '(none)' nothing after); "
                  "rate = n / of.",
    "durations": "Days in each station ('in', open stays censored at the data's end) and from entering a station "
                 "to entering the next ('between'), calendar and working days (England bank holidays): quartiles, "
                 "n stays, of which ended and still open.",
    "dfg": "Directly-follows graph: consecutive stations of a child's timeline whose second stay began in the "
           "period (transitions), the children with that transition (cases), mean and median days between the "
           "two starts.",
    "variants": "Journeys (variants): each child's sequence of stations in the period; cases = children with "
                "that sequence, share = cases / all children.",
    "caseload": "Children at each station on each day (a child is at a station from the day a stay starts until "
                "the day before it ends, or on the day of a same-day stay).",
    "rereferrals": "Referrals by year ending 31 March and how many were followed by another referral of the "
                   "same child within 12 and 36 months; rate = within / referrals.",
    "nfa_by_prior": "Completed assessments ending in no further action (NFA), by the child's number of earlier "
                    "referrals; rate = nfa / assessments.",
    "s47_outcomes": "What followed strategy discussions beginning in the period, their section 47 enquiries "
                    "and ICPCs: n of `of`, share = n / of.",
    "before_after": "Stays at the source station followed directly by the target, before and after the date "
                    "`at`; difference of the rates with a two-proportion z-test and Fisher's exact test.",
}


def spec(name: str) -> Spec:
    """The declared structure of table ``name`` (flow tables may be spelt with - or _)."""
    if name in SPECS:
        return SPECS[name]
    alt = name.replace("-", "_")
    if alt in SPECS:
        return SPECS[alt]
    raise AnalysisError(f"no disclosure rules for table {name!r}",
                        hint="declare its counts and totals in cscflow.disclosure.registry.SPECS")


__all__ = ["FLOW_METHODS", "SPECS", "Balance", "Cumulative", "Pool", "Relation", "RowSum", "Spec", "Total", "spec"]
