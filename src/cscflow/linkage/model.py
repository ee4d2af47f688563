"""The Fellegi–Sunter model on Splink: comparisons by role, training by EM, scored pairs.

Each field is compared by its *role* (surname, forenames, birth_date, sex, postcode, address,
locality, or exact for anything else) with levels that recognise the usual disagreements of
hand-typed lists: initials, nicknames, swapped forenames and surnames, one part of a
double-barrelled surname, day and month of birth transposed (swapped names are recognised through
``name_key``, the first forename and surname in alphabetical order, so that neither name comparison
reads the other's columns and EM blocked on one name still trains the other), a one-character slip. Common
surnames and forenames carry term-frequency adjustments. The u probabilities are estimated
from random pairs, the m probabilities by expectation maximisation (EM) on blocked pairs, the
prior from deterministic rules with an assumed recall (Splink's documented procedure); nothing
is hand-set. String distances are Levenshtein, built in to both DuckDB and Spark, so the two
engines score the same pairs the same way.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from cscflow.errors import CscflowError

ROLES = ("forenames", "surname", "birth_date", "sex", "postcode", "address", "locality")


class LinkageError(CscflowError):
    """Record linkage cannot run on the data or settings given."""


def _splink() -> Any:
    try:
        import splink
        import splink.comparison_level_library as cll
        import splink.comparison_library as cl
    except ImportError as exc:  # pragma: no cover - splink is a dependency
        raise LinkageError("splink is not installed", hint="pip install 'splink>=5,<6'") from exc
    return splink, cl, cll


def surname_comparison() -> Any:
    """Surname: exact (term-frequency adjusted), swapped with the forename or one part of a
    double-barrelled surname, one or two edits, else."""
    _, cl, cll = _splink()
    return cl.CustomComparison(output_column_name="surname", comparison_levels=[
        cll.NullLevel("surname"),
        cll.ExactMatchLevel("surname", term_frequency_adjustments=True),
        cll.CustomLevel("name_key_l = name_key_r OR surname1_l = surname1_r "
                        "OR surname2_l = surname2_r OR surname1_l = surname2_r OR surname2_l = surname1_r",
                        label_for_charts="names swapped, or one part of a double-barrelled surname"),
        cll.LevenshteinLevel("surname", 1),
        cll.LevenshteinLevel("surname", 2),
        cll.ElseLevel(),
    ])


def forenames_comparison() -> Any:
    """Forenames: all exact, first forename exact (term-frequency adjusted), nickname or swapped
    with the surname, one edit, initial only, else."""
    _, cl, cll = _splink()
    return cl.CustomComparison(output_column_name="forenames", comparison_levels=[
        cll.NullLevel("forename1"),
        cll.ExactMatchLevel("forenames"),
        cll.ExactMatchLevel("forename1", term_frequency_adjustments=True),
        cll.CustomLevel("forename_std_l = forename_std_r OR name_key_l = name_key_r",
                        label_for_charts="nickname of the same name, or names swapped"),
        cll.LevenshteinLevel("forename1", 1),
        cll.CustomLevel("substr(forename1_l, 1, 1) = substr(forename1_r, 1, 1) AND "
                        "(length(forename1_l) = 1 OR length(forename1_r) = 1)",
                        label_for_charts="initial agrees with the name"),
        cll.ElseLevel(),
    ])


def dob_comparison() -> Any:
    """Date of birth (ISO text): exact, day and month transposed, one character, same month, else."""
    _, cl, cll = _splink()
    return cl.CustomComparison(output_column_name="dob", comparison_levels=[
        cll.NullLevel("dob"),
        cll.ExactMatchLevel("dob"),
        cll.CustomLevel("dob_swapped_l = dob_r OR dob_l = dob_swapped_r", label_for_charts="day and month swapped"),
        cll.LevenshteinLevel("dob", 1),
        cll.CustomLevel("substr(dob_l, 1, 7) = substr(dob_r, 1, 7)", label_for_charts="same month and year"),
        cll.ElseLevel(),
    ])


def exact_comparison(column: str, tf: bool = False) -> Any:
    """A column compared exactly (sex, or any column without a role)."""
    _, cl, cll = _splink()
    return cl.CustomComparison(output_column_name=column, comparison_levels=[
        cll.NullLevel(column), cll.ExactMatchLevel(column, term_frequency_adjustments=tf), cll.ElseLevel()])


def text_comparison(column: str) -> Any:
    """Free text such as an address or locality: exact (term-frequency adjusted), 1-2 edits, 3-4, else."""
    _, cl, cll = _splink()
    return cl.CustomComparison(output_column_name=column, comparison_levels=[
        cll.NullLevel(column), cll.ExactMatchLevel(column, term_frequency_adjustments=True),
        cll.LevenshteinLevel(column, 2), cll.LevenshteinLevel(column, 4), cll.ElseLevel()])


def postcode_comparison() -> Any:
    """Postcode: exact (term-frequency adjusted), one edit, same outward code (sector), else."""
    _, cl, cll = _splink()
    return cl.CustomComparison(output_column_name="postcode", comparison_levels=[
        cll.NullLevel("postcode"), cll.ExactMatchLevel("postcode", term_frequency_adjustments=True),
        cll.LevenshteinLevel("postcode", 1),
        cll.CustomLevel("substr(postcode_l, 1, 3) = substr(postcode_r, 1, 3)", label_for_charts="same district"),
        cll.ElseLevel()])


def court_dates_comparison(columns: Sequence[str], near: int = 14, within: int = 91) -> Any:
    """Application date against the child's interim-care and court-stage dates (day numbers):
    within ``near`` days, within ``within`` days, else (a child never looked after under an interim
    care order, Masson's fifth, falls here: EM learns how often that happens among true matches)."""
    _, cl, cll = _splink()
    terms = [f"abs(app_day_{a} - {c}_{b})" for c in columns for a, b in (("l", "r"), ("r", "l"))]
    gap = f"least({', '.join(terms)})"
    return cl.CustomComparison(output_column_name="court_dates", comparison_levels=[
        cll.CustomLevel(f"{gap} <= {near}", label_for_charts=f"interim care or court stage within {near} days"),
        cll.CustomLevel(f"{gap} <= {within}", label_for_charts=f"within {within} days"),
        cll.ElseLevel(),
    ])


@dataclass
class ModelSpec:
    """What to compare, how to block, how to train."""

    comparisons: list[Any]
    blocking_rules: list[Any]
    em_rules: list[Any]
    deterministic_rules: list[Any]
    recall: float = 0.8
    retain: list[str] = field(default_factory=list)
    #: Pseudo-count (pairs per level) added to the EM estimates of m: see :func:`smooth_m`.
    pseudo_count: float = 1.0


def smooth_m(model: dict[str, Any], matches: int, pseudo_count: float = 1.0) -> dict[str, Any]:
    """The model with each comparison's m probabilities smoothed: ``(m * matches + a) / (matches + a * K)``
    over its K non-null levels (additive, Laplace smoothing with ``a`` pseudo-pairs per level).

    EM has fixed points at m = 0: a level that starts unlikely among matches (a transposed date of
    birth, a child never in care) can be driven to zero and then forbids every true pair that shows
    it. A pseudo-count of one pair per level, against ``matches`` expected true pairs, keeps such a
    level rare but possible. Levels EM never saw keep Splink's placeholder.

    >>> m = {"comparisons": [{"comparison_levels": [{"is_null_level": True}, {"m_probability": 1.0},
    ...      {"m_probability": 0.0}]}]}
    >>> [round(lv.get("m_probability", -1), 4) for lv in smooth_m(m, 98)["comparisons"][0]["comparison_levels"]]
    [-1, 0.99, 0.01]
    """
    for comp in model.get("comparisons", []):
        levels = [lv for lv in comp["comparison_levels"] if not lv.get("is_null_level")
                  and isinstance(lv.get("m_probability"), (int, float))]
        k = len(levels)
        for lv in levels:
            lv["m_probability"] = (lv["m_probability"] * matches + pseudo_count) / (matches + pseudo_count * k)
    return model


def score_pairs(left: pd.DataFrame, right: pd.DataFrame | None, spec: ModelSpec, *, engine: str = "duckdb",
                spark: Any = None, min_probability: float = 0.01, seed: int = 1,
                max_u_pairs: float = 2e6) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Train the model on the records and score the blocked pairs.

    ``left``/``right`` have a ``unique_id`` column (``right`` None: deduplicate ``left``). Returns
    the pairs at or above ``min_probability`` (``unique_id_l``, ``unique_id_r``, ``match_probability``,
    ``match_weight`` and the per-comparison ``mw_*`` match weights; no field
    values) and the trained model as a dict (m and u per level, the prior).
    """
    splink, _, _ = _splink()
    logging.getLogger("splink").setLevel(logging.ERROR)
    if engine == "duckdb":
        db = splink.DuckDBAPI()  # a connection of its own: nothing outlives the call
        frames = [db.register(left, dataset_display_name="a_left")]
        if right is not None:
            frames.append(db.register(right, dataset_display_name="b_right"))
    elif engine in ("pyspark", "spark"):
        if spark is None:
            raise LinkageError("the Spark engine needs a Spark session", hint="pass spark=SparkSession")
        db = splink.SparkAPI(spark_session=spark, register_udfs_automatically=False, break_lineage_method="persist")
        # The session outlives the call: the inputs are temporary views named apart per call (a second linkage in
        # the session found the first one's 'a_left' and failed), dropped with Splink's tables at the end.
        tag = uuid.uuid4().hex[:12]
        frames = [db.register(_to_spark(spark, left), dataset_display_name="a_left", table_name=f"a_left_{tag}")]
        if right is not None:
            frames.append(db.register(_to_spark(spark, right), dataset_display_name="b_right",
                                      table_name=f"b_right_{tag}"))
    else:
        raise LinkageError(f"no linkage engine {engine!r}", hint="use duckdb or pyspark")
    try:
        return _train_and_score(splink, frames, left, right, spec, min_probability, seed, max_u_pairs)
    finally:
        if engine != "duckdb":
            db.delete_tables_created_by_splink_from_db()
            for frame in frames:
                spark.catalog.dropTempView(frame.physical_name)


def _train_and_score(splink: Any, frames: list[Any], left: pd.DataFrame, right: pd.DataFrame | None, spec: ModelSpec,
                     min_probability: float, seed: int, max_u_pairs: float) -> tuple[pd.DataFrame, dict[str, Any]]:
    settings = splink.SettingsCreator(
        link_type="link_only" if right is not None else "dedupe_only",
        comparisons=spec.comparisons,
        blocking_rules_to_generate_predictions=spec.blocking_rules,
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=True,
        additional_columns_to_retain=spec.retain,
    )
    linker = splink.Linker(frames if len(frames) > 1 else frames[0], settings, log_level=None)
    linker.training.estimate_probability_two_random_records_match(spec.deterministic_rules, recall=spec.recall)
    prior = linker.misc.save_model_to_json().get("probability_two_random_records_match", 0.0)
    if not 0.0 < float(prior) < 1.0:  # no pair agrees exactly: Splink would fail on log2(0) in EM
        raise LinkageError("no pair of records agrees exactly on the fields of the deterministic rules "
                           f"({'; '.join(map(str, spec.deterministic_rules))}), so the share of true matches cannot "
                           "be estimated", hint="check that both sides carry names and dates of birth in the same "
                                                "form (cscflow quality WS)")
    linker.training.estimate_u_using_random_sampling(max_pairs=max_u_pairs, seed=seed)
    for rule in spec.em_rules:
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    n = min(len(left), len(right)) if right is not None else len(left)
    trained = smooth_m(linker.misc.save_model_to_json(), n, spec.pseudo_count)
    linker = splink.Linker(frames if len(frames) > 1 else frames[0], trained, log_level=None)
    pairs = linker.inference.predict(threshold_match_probability=min_probability).as_pandas_dataframe()
    keep = ["unique_id_l", "unique_id_r", "source_dataset_l", "source_dataset_r", "match_probability",
            "match_weight", *[c for c in pairs.columns if c.startswith(("gamma_", "bf_", "mw_"))]]
    pairs = pairs[[c for c in keep if c in pairs.columns]]
    model = linker.misc.save_model_to_json()
    return pairs, model


def _to_spark(spark: Any, frame: pd.DataFrame) -> Any:
    from pyspark.sql import types as T

    typ = {"Int64": T.LongType(), "int64": T.LongType(), "float64": T.DoubleType()}
    schema = T.StructType([T.StructField(c, typ.get(str(frame[c].dtype), T.StringType()), True)
                           for c in frame.columns])
    rows = [tuple(None if pd.isna(v) else (int(v) if isinstance(s.dataType, T.LongType) else
                                           float(v) if isinstance(s.dataType, T.DoubleType) else str(v))
                  for v, s in zip(r, schema.fields, strict=True)) for r in frame.itertuples(index=False)]
    return spark.createDataFrame(rows, schema)


def oriented(pairs: pd.DataFrame) -> pd.DataFrame:
    """Pairs with the left file's id in ``left_id`` and the right file's in ``right_id``."""
    flip = pairs.get("source_dataset_l", pd.Series("a_left", index=pairs.index)) != "a_left"
    out = pairs.copy()
    out["left_id"] = pairs["unique_id_l"].where(~flip, pairs["unique_id_r"])
    out["right_id"] = pairs["unique_id_r"].where(~flip, pairs["unique_id_l"])
    return out
