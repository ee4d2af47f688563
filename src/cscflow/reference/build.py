"""Rebuild the bundled reference tables from the DfE dashboard repository's data-raw files.

Run once by a maintainer (not at run time)::

    python -m cscflow.reference.build ../shared/data/dfe-csc-outcomes-enablers

Source: github.com/dfe-analytical-services/CSC_outcomes_and_enablers, commit
2f5d11a431050523dab58810083259d3313029ae, folder data-raw/ (DfE and ONS official
statistics, Open Government Licence v3.0). Only the columns cscflow uses are kept;
values are copied, not changed; suppressed cells (c, z, x, low) are kept as their code in
``status`` with an empty value.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).parent
LEVELS = {"National": "england", "Regional": "region", "Local authority": "la"}

#: measure -> (file, numerator column, denominator column or None, filter column/value)
MEASURES: dict[str, tuple[str, str, str | None, tuple[str, str] | None]] = {
    "cla_31march": ("cla_number_and_rate_per_10k_children.csv", "children_count", "population_estimate",
                    ("population_type", "Children looked after on 31 March each year")),
    "cla_started": ("cla_number_and_rate_per_10k_children.csv", "children_count", "population_estimate",
                    ("population_type", "Children starting to be looked after each year")),
    "cla_ceased": ("cla_number_and_rate_per_10k_children.csv", "children_count", "population_estimate",
                   ("population_type", "Children ceasing to be looked after each year")),
    "cin_31march": ("b1_children_in_need_2013_to_2025.csv", "At31_episodes", None, None),
    "cin_started": ("b1_children_in_need_2013_to_2025.csv", "Started_episodes", None, None),
    "referrals": ("c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv", "referral_count", None, None),
    "rereferrals": ("c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv", "rereferral_count",
                    "referral_count", None),
    "cp_plans_started": ("d3_cpps_subsequent_plan_2013_to_2025.csv", "CPP_start", None, None),
    "cp_subsequent": ("d3_cpps_subsequent_plan_2013_to_2025.csv", "CPP_subsequent", "CPP_start", None),
}


def _read(src: Path, name: str) -> pd.DataFrame:
    df = pd.read_csv(src / name, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    df["level"] = df["geographic_level"].map(LEVELS)
    df["code"] = df["old_la_code"].where(df["level"] == "la", df["region_code"].where(df["level"] == "region", "E92000001"))
    return df


def _num(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s.str.replace(",", ""), errors="coerce")


def build(src: Path, out: Path = HERE) -> None:
    rows = []
    for measure, (fname, ncol, dcol, filt) in MEASURES.items():
        df = _read(src, fname)
        if filt:
            df = df[df[filt[0]] == filt[1]]
        part = pd.DataFrame(
            {
                "year": df["time_period"].astype(int),
                "level": df["level"],
                "code": df["code"],
                "measure": measure,
                "count": _num(df[ncol]).astype("Int64"),
                "denominator": (_num(df[dcol]) if dcol else pd.Series(pd.NA, index=df.index)).astype("Int64"),
                "status": df[ncol].where(_num(df[ncol]).isna(), ""),
            }
        )
        rows.append(part)
    series = pd.concat(rows, ignore_index=True).sort_values(["measure", "year", "level", "code"])
    series.to_csv(out / "series.csv.gz", index=False)

    pop = _read(src, "ons_mid-year_population_estimates_2012_to_2024.csv")
    pd.DataFrame(
        {"year": pop["time_period"].astype(int), "level": pop["level"], "code": pop["code"],
         "population_0_17": _num(pop["population_estimate"]).astype("Int64")}
    ).sort_values(["year", "level", "code"]).to_csv(out / "population.csv.gz", index=False)

    cla = _read(src, "cla_number_and_rate_per_10k_children.csv")
    names = pd.concat([cla, _read(src, "b1_children_in_need_2013_to_2025.csv")])
    las = names[names["level"] == "la"].sort_values("time_period").drop_duplicates("old_la_code", keep="last")
    las = las[["old_la_code", "new_la_code", "la_name", "region_code", "region_name"]].rename(
        columns={"old_la_code": "la"})
    las.sort_values("la").to_csv(out / "las.csv", index=False)
    regions = names[names["level"] == "region"].drop_duplicates("region_code")[["region_code", "region_name"]]
    regions.sort_values("region_code").to_csv(out / "regions.csv", index=False)

    sn = pd.read_csv(src / "sn_model_2025_wide.csv", dtype=str, encoding="utf-8-sig")
    long = []
    for k in range(1, 11):
        long.append(pd.DataFrame({"la": sn["old_la_code"], "rank": k, "neighbour": sn[f"SN_{k}"],
                                  "closeness": sn[f"SN_{k}P"].str.strip()}))
    pd.concat(long).sort_values(["la", "rank"]).to_csv(out / "statistical_neighbours.csv", index=False)


if __name__ == "__main__":  # pragma: no cover
    build(Path(sys.argv[1]))
