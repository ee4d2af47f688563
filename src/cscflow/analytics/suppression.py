"""Small-number suppression: kept for old imports; the rules live in :mod:`cscflow.disclosure`.

>>> import pandas as pd
>>> suppress(pd.DataFrame({"children": [3, 12, 40]}), ["children"])["children"].tolist()
['<5', '[c]', 40]
"""

from __future__ import annotations

from cscflow.disclosure import MARKER, suppress, suppress_value

__all__ = ["MARKER", "suppress", "suppress_value"]
