"""Record linkage: care-proceedings rows to children, and any two lists of people (on Splink).

>>> from cscflow.linkage import STATUSES
>>> STATUSES
('linked', 'review', 'unlinked')
"""

from __future__ import annotations

from cscflow.linkage.model import ROLES, LinkageError
from cscflow.linkage.proceedings import (
    OUTPUT_COLUMNS,
    REVIEW_BAND,
    STATUSES,
    THRESHOLD,
    LinkResult,
    link_proceedings,
    output_frame,
    write_links,
)

__all__ = ["OUTPUT_COLUMNS", "REVIEW_BAND", "ROLES", "STATUSES", "THRESHOLD", "LinkResult", "LinkageError",
           "link_proceedings", "output_frame", "write_links"]
