"""The canonical model: tables, the stage vocabulary, DfE code lists and the working-day calendar.

The table schemas (Ibis) are looked up on first use, so the simulation and the code lists can use
the model without loading an engine.
"""

from typing import Any

from cscflow.model.stages import EXITS, PRECEDENCE, STAGE_LABELS, STAGES

__all__ = ["EXITS", "PRECEDENCE", "RESTRICTED", "SCHEMAS", "STAGES", "STAGE_LABELS", "TABLES", "schema"]


def __getattr__(name: str) -> Any:
    if name in ("RESTRICTED", "SCHEMAS", "TABLES", "schema"):
        from cscflow.model import tables

        return getattr(tables, name)
    raise AttributeError(f"module 'cscflow.model' has no attribute {name!r}")
