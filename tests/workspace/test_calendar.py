import datetime as dt

import numpy as np
import pandas as pd
import pytest

from cscflow.workspace import add_working_days, bank_holidays, with_working_days, working_days


@pytest.mark.parametrize(
    "day",
    [
        "2024-12-25", "2024-12-26", "2025-12-25", "2025-12-26", "2026-12-25", "2026-12-28",  # Boxing Day 2026 is a Saturday
        "2024-03-29", "2024-04-01", "2025-04-18", "2025-04-21", "2026-04-03", "2026-04-06",  # Good Friday, Easter Monday
        "2022-06-02", "2022-06-03",  # Platinum Jubilee
        "2022-09-19",  # State funeral of Queen Elizabeth II
        "2023-05-08",  # Coronation of King Charles III
    ],
)
def test_known_bank_holidays(day):
    assert dt.date.fromisoformat(day) in bank_holidays()


def test_not_holidays():
    assert dt.date(2026, 12, 28) in bank_holidays()  # Boxing Day 2026 falls on a Saturday: substitute
    assert dt.date(2023, 6, 2) not in bank_holidays()


def _naive(start: str, end: str) -> int:
    """Count, day by day, working days after start up to and including end."""
    hol = set(bank_holidays())
    d, n = dt.date.fromisoformat(start), 0
    e = dt.date.fromisoformat(end)
    while d < e:
        d += dt.timedelta(days=1)
        n += d.weekday() < 5 and d not in hol
    return n


@pytest.mark.parametrize(
    "start,end,expected",
    [
        ("2024-12-23", "2024-12-27", 2),  # Tue 24 and Fri 27
        ("2024-12-20", "2025-01-02", 6),  # 23, 24, 27, 30, 31 Dec, 2 Jan
        ("2025-04-17", "2025-04-22", 1),  # Easter 2025
        ("2026-04-02", "2026-04-07", 1),  # Easter 2026
        ("2022-09-16", "2022-09-20", 1),  # state funeral
        ("2023-05-05", "2023-05-09", 1),  # coronation: Mon 8 May 2023
        ("2024-02-03", "2024-02-05", 1),  # Saturday to Monday
        ("2024-01-01", "2024-01-01", 0),
    ],
)
def test_working_days_known(start, end, expected):
    assert working_days([start], [end]).tolist() == [expected]
    assert _naive(start, end) == expected


def test_working_days_vectorised_against_naive():
    rng = np.random.default_rng(1)
    starts = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 2000, 300), unit="D")
    ends = starts + pd.to_timedelta(rng.integers(0, 60, 300), unit="D")
    got = working_days(starts, ends)
    want = [_naive(str(s.date()), str(e.date())) for s, e in zip(starts, ends, strict=True)]
    assert got.tolist() == want


def test_add_working_days():
    # 15 working days after a strategy discussion on Fri 13 Dec 2024: Christmas, Boxing Day, New Year skipped.
    assert str(add_working_days("2024-12-13", 15)[0]) == "2025-01-08"
    assert working_days(["2024-12-13"], ["2025-01-08"]).tolist() == [15]


def test_working_days_in_engine(workspace):
    frame = pd.DataFrame(
        {"a": pd.to_datetime(["2024-12-23", "2022-09-16", "2024-03-28"]),
         "b": pd.to_datetime(["2024-12-27", "2022-09-20", None])}
    )
    t = workspace.con.create_table("spans", frame)
    out = workspace.execute(with_working_days(t, workspace.calendar(), "a", "b").order_by("a"))
    got = out["working_days"].tolist()  # ordered 2022-09-16, 2024-03-28 (open), 2024-12-23
    assert got[0] == 1 and pd.isna(got[1]) and got[2] == 2


#: starts that are not working days: weekends, bank holidays, and Christmas to New Year
ODD_STARTS = ["2024-02-03", "2024-02-04", "2024-12-25", "2024-12-26", "2024-12-28", "2025-04-18", "2025-04-21",
              "2022-09-19", "2023-05-08", "2026-12-28", "2024-01-01"]


def test_weekend_and_bank_holiday_starts_count_the_same_in_synth_and_analytics(workspace):
    """The simulation's deadlines (n working days after a start, :func:`cscflow.synth.care.add_working_days`)
    are n working days when the analyses count them, in numpy and in the engine's calendar table, and by
    a day-by-day count (the start is day 0; each working day after it counts one)."""
    from cscflow.synth.care import add_working_days as synth_add

    starts = pd.to_datetime(ODD_STARTS)
    assert not any(d.weekday() < 5 and d.date() not in set(bank_holidays()) for d in starts)
    days = starts.to_numpy(dtype="datetime64[D]").astype(np.int64)
    for n in (1, 2, 5, 15, 45):
        ends = synth_add(days, np.full(len(days), n))
        assert ends.dtype == np.int64
        end_dates = pd.to_datetime(ends.astype("datetime64[D]"))
        assert working_days(starts, end_dates).tolist() == [n] * len(days)
        assert [_naive(str(s.date()), str(e.date())) for s, e in zip(starts, end_dates, strict=True)] == [n] * len(days)
        t = workspace.con.create_table(f"spans_{n}", pd.DataFrame({"a": starts, "b": end_dates}), overwrite=True)
        out = workspace.execute(with_working_days(t, workspace.calendar(), "a", "b"))
        assert out["working_days"].tolist() == [n] * len(days)
    # Saturday 3 Feb 2024: the first working day on is Monday 5th, not Tuesday 6th
    assert str(pd.Timestamp(synth_add(days[:1], np.array([1]))[0].astype("datetime64[D]")).date()) == "2024-02-05"


def test_one_calendar():
    """synth, workspace and model hold one bank-holiday list (the model's), not copies."""
    from cscflow.model import calendar as model_cal
    from cscflow.synth import sampling
    from cscflow.workspace import calendar as ws_cal

    assert sampling.bank_holidays is model_cal.bank_holidays is ws_cal.bank_holidays
    assert ws_cal.working_days is model_cal.working_days and ws_cal.add_working_days is model_cal.add_working_days
