"""Safe, streaming XML for the returns readers (CIN census and SSDA903 XML).

Statutory return files never declare a DTD, so any ``<!DOCTYPE`` (the carrier of
entity bombs and external entities) is refused before parsing starts. The parser
itself also runs with entity resolution, DTD loading, network access and
``huge_tree`` switched off, and records are cleared as soon as they are read, so a
national file streams in constant memory.

>>> import io
>>> names = [el.tag for el in iter_records(io.BytesIO(b"<Message><Child/><Child/></Message>"), "Child")]
>>> names
['Child', 'Child']
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from lxml import etree

from cscflow.errors import SourceError
from cscflow.sources.values import parse_date_text

#: How much of the file may come before the root element (XML declaration, comments).
_PROLOG_LIMIT = 1 << 20
_ROOT_RE = re.compile(rb"<([A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)")


class XmlTruncated(Exception):
    """Raised by :func:`iter_records` when the XML breaks after some records were read."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def local(tag: object) -> str:
    """The local name of an element tag (namespace dropped).

    >>> local("{urn:x}Child"), local("Child")
    ('Child', 'Child')
    """
    if not isinstance(tag, str):
        return ""
    return tag if tag[0] != "{" else tag.rsplit("}", 1)[-1]


def sniff_root(path: Path) -> str:
    """Name of the root element of an XML file, refusing DTDs, entities and non-XML.

    Raises :class:`SourceError` for an empty file, a file that is not XML, or one
    whose prolog declares a ``<!DOCTYPE`` or ``<!ENTITY``.
    """
    name = Path(path).name
    with open(path, "rb") as fh:
        head = fh.read(_PROLOG_LIMIT)
    if not head.strip():
        raise SourceError(f"{name}: the file is empty", hint="export the return again from the case system")
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise SourceError(f"{name}: UTF-16 XML is not supported", hint="save the file as UTF-8")
    if not text.startswith(b"<"):
        start = text[:40].decode("utf-8", "replace").splitlines()[0]
        raise SourceError(
            f"{name}: not XML (the file starts {start!r})",
            hint="is this a CSV or another return? give the right --format",
        )
    pos = 0
    while True:
        lt = text.find(b"<", pos)
        if lt < 0:
            raise SourceError(
                f"{name}: no XML element found in the first {len(text)} bytes",
                hint="is this really an XML return? give the format with --format",
            )
        if text.startswith(b"<?", lt):
            end = text.find(b"?>", lt)
        elif text.startswith(b"<!--", lt):
            end = text.find(b"-->", lt)
        elif text.startswith(b"<!", lt):
            kind = text[lt + 2 : lt + 9].upper()
            what = "an entity declaration" if kind.startswith(b"ENTITY") else "a DTD (<!DOCTYPE ...>)"
            raise SourceError(
                f"{name}: refused: the XML declares {what}, which returns never do and which can hide "
                "entity-expansion bombs or external file and network references",
                hint="remove the <!DOCTYPE ...> block or export the return again",
            )
        else:
            match = _ROOT_RE.match(text, lt)
            if not match:
                raise SourceError(
                    f"{name}: not well-formed XML near byte {lt}",
                    hint="is this really an XML return? give the format with --format",
                )
            return match.group(2).decode("ascii", "replace")
        if end < 0:
            raise SourceError(f"{name}: the XML prolog is not closed", hint="export the return again")
        pos = end + 2


def iter_records(source: str | Path | IO[bytes], tag: str, *, also: tuple[str, ...] = ()) -> Iterator[Any]:
    """Yield each complete ``tag`` element (and each ``also`` element) of an XML stream.

    The element is cleared, with the siblings read before it, once the caller moves
    on. Parsing is safe: no entity resolution, no DTD, no network, no huge_tree.
    A syntax error raises :class:`XmlTruncated` (with the line) so that callers can
    keep the records already read.
    """
    wanted = {tag, *also}
    tags = [t for name in wanted for t in (name, "{*}" + name)]
    src = str(source) if isinstance(source, Path) else source
    context = etree.iterparse(
        src,
        events=("end",),
        tag=tags,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        remove_blank_text=True,  # indentation is not kept (a whitespace-only leaf still is)
    )
    is_record: dict[str, bool] = {tag: True}  # element tag -> is it the record element (namespace dropped)
    try:
        for _event, elem in context:
            yield elem
            found = is_record.get(elem.tag)
            if found is None:
                found = local(elem.tag) == tag
                if len(is_record) < 64:
                    is_record[elem.tag] = found
            if found:
                elem.clear(keep_tail=False)
                parent = elem.getparent()
                if parent is not None:
                    while elem.getprevious() is not None:
                        del parent[0]
    except etree.XMLSyntaxError as err:
        line = err.lineno or 0
        raise XmlTruncated(line, str(err.msg or err).splitlines()[0]) from None


def text_of(elem: Any, name: str) -> str | None:
    """Stripped text of the first direct child called ``name`` (any namespace), or None."""
    for child in elem.iterchildren(name, "{*}" + name):
        value = (child.text or "").strip()
        return value or None
    return None


def children_named(elem: Any, name: str) -> list[Any]:
    """Direct children of ``elem`` whose local name is ``name``."""
    return list(elem.iterchildren(name, "{*}" + name))


_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")


def parse_date(value: str | None) -> dt.date | None:
    """A date written ``YYYY-MM-DD`` (xs:date, an optional time or zone is dropped), ``dd/mm/yyyy`` or
    any other layout every reader accepts (:func:`cscflow.sources.values.parse_date_text`, the one
    list of layouts); the first two are read directly, for speed.

    Returns None for an empty value; raises ValueError for anything else.

    >>> parse_date("2022-03-31"), parse_date("31/03/2022"), parse_date(None), parse_date("16-Sep-2020")
    (datetime.date(2022, 3, 31), datetime.date(2022, 3, 31), None, datetime.date(2020, 9, 16))
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if len(text) >= 10 and text[4] == "-" and text[7] == "-":
        return dt.date.fromisoformat(text[:10])
    match = _DMY.match(text)
    if match:
        day, month, year = (int(g) for g in match.groups())
        return dt.date(year, month, day)
    ts = parse_date_text(text)
    if ts is None:
        raise ValueError(f"not a date: {value!r}")
    parsed: dt.date = ts.date()
    return parsed
