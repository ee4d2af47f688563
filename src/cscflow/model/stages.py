"""The stage vocabulary of the default England process and the exits.

An LA's map can rename, merge or add stations; the canonical ``episodes.stage``
column uses these ids so that every reader and analysis speaks the same words.
"""

from __future__ import annotations

#: Stages in the order a child usually meets them (contact first).
STAGES: tuple[str, ...] = (
    "contact",
    "early_help",
    "referral",
    "assessment",  # child and family assessment (s17)
    "strategy_discussion",
    "s47",
    "icpc",
    "cin_plan",
    "cp_plan",
    "looked_after",
    "care_leaver",
    "pre_proceedings",
    "proceedings",
)

STAGE_LABELS: dict[str, str] = {
    "contact": "Contact",
    "early_help": "Early help",
    "referral": "Referral",
    "assessment": "C&F assessment",
    "strategy_discussion": "Strategy discussion",
    "s47": "Section 47 enquiry",
    "icpc": "ICPC",
    "cin_plan": "CIN plan",
    "cp_plan": "CP plan",
    "looked_after": "Looked after",
    "care_leaver": "Care leaver",
    "pre_proceedings": "Pre-proceedings (PLO)",
    "proceedings": "Care proceedings",
}

#: Ways a journey (or an episode of need) ends.
EXITS: tuple[str, ...] = (
    "nfa",
    "information_advice",
    "step_down_early_help",
    "closed",
    "permanence",
    "returned_home",
    "left_care_18",
)

EXIT_LABELS: dict[str, str] = {
    "nfa": "No further action",
    "information_advice": "Information and advice",
    "step_down_early_help": "Stepped down to early help",
    "closed": "Closed",
    "permanence": "Permanence (adoption, SGO, CAO)",
    "returned_home": "Returned home",
    "left_care_18": "Left care at 18",
}

#: Default precedence when stays overlap: earlier in this list wins.
PRECEDENCE: tuple[str, ...] = (
    "looked_after",
    "proceedings",
    "pre_proceedings",
    "cp_plan",
    "icpc",
    "s47",
    "strategy_discussion",
    "assessment",
    "cin_plan",
    "referral",
    "early_help",
    "contact",
    "care_leaver",
)


def is_stage(value: str) -> bool:
    """True when ``value`` is a stage of the default vocabulary.

    >>> is_stage("s47"), is_stage("Section 47")
    (True, False)
    """
    return value in STAGE_LABELS
