"""The canonical model: tables, the stage vocabulary and DfE code lists."""

from cscflow.model.stages import EXITS, PRECEDENCE, STAGE_LABELS, STAGES
from cscflow.model.tables import RESTRICTED, SCHEMAS, TABLES, schema

__all__ = ["EXITS", "PRECEDENCE", "RESTRICTED", "SCHEMAS", "STAGES", "STAGE_LABELS", "TABLES", "schema"]
