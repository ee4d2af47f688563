"""Standardising names and dates of birth for record linkage.

Names are compared after the usual cleaning (Christen 2012, ch. 3): lower case, accents and
punctuation other than hyphens dropped, spaces collapsed. A name's first forename is also
mapped to a standard form so that a nickname and its full name agree (``Tom`` and ``Thomas``),
and surnames are split at hyphens and spaces so that a double-barrelled surname agrees with
either part. Dates of birth are also written with day and month swapped (a common keying
slip: 03/04 for 04/03), so that a comparison can recognise it.

>>> clean_name("  O'Brien-Smith ")
'obrien-smith'
>>> standard_forename("Tom"), standard_forename("Thomas"), standard_forename("Zebedee")
('thomas', 'thomas', 'zebedee')
>>> surname_parts("Hughes-Khan")
('hughes', 'khan')
>>> swapped_dob("2015-03-04"), swapped_dob("2015-04-04"), swapped_dob("2015-03-14")
('2015-04-03', None, None)
"""

from __future__ import annotations

import re
import unicodedata

#: Short form -> full form of common English first names (the full form is the standard).
#: Where one short form serves several full names (Alex, Sam), it maps to the commonest.
NICKNAMES: dict[str, str] = {
    "tom": "thomas", "tommy": "thomas", "will": "william", "bill": "william", "billy": "william",
    "liam": "william", "jim": "james", "jimmy": "james", "jamie": "james", "josh": "joshua",
    "dan": "daniel", "danny": "daniel", "sam": "samuel", "sammy": "samuel", "alex": "alexander",
    "ollie": "oliver", "olly": "oliver", "jake": "jacob", "joe": "joseph", "joey": "joseph",
    "ben": "benjamin", "benny": "benjamin", "matt": "matthew", "fred": "frederick", "freddie": "frederick",
    "freddy": "frederick", "charlie": "charles", "chas": "charles", "harry": "henry", "hal": "henry",
    "ed": "edward", "eddie": "edward", "ted": "edward", "teddy": "edward", "nate": "nathaniel",
    "nat": "nathaniel", "zach": "zachary", "zac": "zachary", "zack": "zachary", "mike": "michael",
    "mikey": "michael", "mick": "michael", "beth": "elizabeth", "liz": "elizabeth", "lizzie": "elizabeth",
    "betty": "elizabeth", "eliza": "elizabeth", "lottie": "charlotte", "jess": "jessica", "jessie": "jessica",
    "bella": "isabella", "izzy": "isabelle", "issy": "isabelle", "liv": "olivia", "livvy": "olivia",
    "millie": "amelia", "milly": "amelia", "abbie": "abigail", "abby": "abigail", "kate": "katherine",
    "katie": "katherine", "kat": "katherine", "becky": "rebecca", "becca": "rebecca", "vicky": "victoria",
    "vikki": "victoria", "jenny": "jennifer", "jen": "jennifer", "maggie": "margaret", "meg": "margaret",
    "peggy": "margaret", "flo": "florence", "ellie": "eleanor", "nell": "eleanor", "gabby": "gabriella",
    "tasha": "natasha", "mo": "mohammed", "ibby": "ibrahim", "chris": "christopher", "kit": "christopher",
    "tony": "anthony", "ant": "anthony", "jay": "jayden", "evie": "evelyn", "lettie": "scarlett",
    "maddie": "madison", "maddy": "madison", "phoebs": "phoebe", "manny": "emmanuel", "andy": "andrew",
    "drew": "andrew", "rob": "robert", "bob": "robert", "bobby": "robert", "robbie": "robert",
    "dave": "david", "davey": "david", "steve": "stephen", "stevie": "stephen", "nick": "nicholas",
    "nicky": "nicholas", "rich": "richard", "rick": "richard", "ricky": "richard", "dick": "richard",
    "jon": "jonathan", "johnny": "john", "jack": "john", "pete": "peter", "pat": "patrick",
    "paddy": "patrick", "tim": "timothy", "timmy": "timothy", "greg": "gregory", "ray": "raymond",
    "reggie": "reginald", "ron": "ronald", "ronnie": "ronald", "don": "donald", "theo": "theodore",
    "archie": "archibald", "alfie": "alfred", "alf": "alfred", "louie": "louis", "lou": "louis",
    "sophie": "sophia", "soph": "sophia", "annie": "anne", "ann": "anne", "cathy": "catherine",
    "kathy": "katherine", "sue": "susan", "susie": "susan", "mandy": "amanda", "mel": "melissa",
    "nicki": "nicola", "nikki": "nicola", "steph": "stephanie", "em": "emily", "emmy": "emily",
    "rosie": "rose", "georgie": "georgia", "lexi": "alexis", "lily": "lillian", "mattie": "matilda",
    "tilly": "matilda", "tillie": "matilda", "lucy": "lucinda", "frankie": "francesca", "fran": "francesca",
    "franky": "francis", "frank": "francis", "ollie-mae": "olivia", "mohammad": "mohammed",
    "muhammad": "mohammed", "mohamed": "mohammed", "muhammed": "mohammed",
}  # fmt: skip
_NOT_NAME = re.compile(r"[^a-z\- ]+")
_SPACES = re.compile(r"\s+")


def clean_name(value: object) -> str | None:
    """A name in lower case without accents or punctuation (hyphens kept), or None when blank."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = unicodedata.normalize("NFKD", str(value)).encode("ascii", "ignore").decode().lower()
    text = _SPACES.sub(" ", _NOT_NAME.sub("", text.replace(".", " "))).strip(" -")
    return text or None


def first_forename(value: str | None) -> str | None:
    """The first of cleaned forenames ('amy jane' -> 'amy')."""
    if not value:
        return None
    return value.replace("-", " ").split()[0]


def standard_forename(value: str | None) -> str | None:
    """The full form of a first name when it is a known nickname (lower case), else the name itself."""
    name = clean_name(value)
    if not name:
        return None
    first = first_forename(name) or name
    return NICKNAMES.get(first, first)


def surname_parts(value: str | None) -> tuple[str | None, str | None]:
    """The first and last part of a cleaned surname split at hyphens and spaces (the same when single)."""
    name = clean_name(value)
    if not name:
        return None, None
    parts = [p for p in re.split(r"[- ]", name) if p]
    return parts[0], parts[-1]


def swapped_dob(iso: str | None) -> str | None:
    """``YYYY-MM-DD`` with day and month swapped, when that is a different valid date (day <= 12)."""
    if not iso or len(iso) < 10:
        return None
    y, m, d = iso[:4], iso[5:7], iso[8:10]
    if d == m or int(d) > 12:
        return None
    return f"{y}-{d}-{m}"
