"""Key practices watched continuously: statutory timescales as rules, every clock at any as-of date.

>>> from cscflow.practices import load_rules
>>> load_rules()["assessment-45wd"].limit.amount
45
"""

from cscflow.practices.clocks import COLUMNS, STATUSES, coverage, evaluate
from cscflow.practices.rules import Limit, Rule, RulesError, load_rules, rules_path

__all__ = ["COLUMNS", "STATUSES", "Limit", "Rule", "RulesError", "coverage", "evaluate", "load_rules", "rules_path"]
