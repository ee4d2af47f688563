"""Where the third-party fixture files are (../shared/data beside the checkout, or CSCFLOW_SHARED_DATA), and
the rule for a test that needs them: skip when absent, fail under CI's CSCFLOW_REQUIRE_SHARED_DATA=1.

A module of its own (not conftest.py) so that tests import it by a name no other folder's conftest shares.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Third-party fixture files (read-only), beside the checkout as ../shared/data (see its PROVENANCE.md).
SHARED_DATA = Path(os.environ.get("CSCFLOW_SHARED_DATA", ROOT.parent / "shared" / "data"))
#: Set by .ci/run: a missing fixture folder fails the tests that need it instead of skipping them.
REQUIRE_SHARED = os.environ.get("CSCFLOW_REQUIRE_SHARED_DATA", "") not in ("", "0")
_SKIP_REASON = "third-party fixtures not found"


def require_shared_data() -> Path:
    """The third-party fixture folder; skips the calling test when it is absent (fails under CI's
    CSCFLOW_REQUIRE_SHARED_DATA=1, so CI never skips them silently)."""
    if SHARED_DATA.is_dir():
        return SHARED_DATA
    if REQUIRE_SHARED:
        pytest.fail(f"{_SKIP_REASON} at {SHARED_DATA} and CSCFLOW_REQUIRE_SHARED_DATA is set; "
                    "set CSCFLOW_SHARED_DATA to the folder holding PROVENANCE.md")
    pytest.skip(f"{_SKIP_REASON} at {SHARED_DATA}")
