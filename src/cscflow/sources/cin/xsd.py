"""Optional validation of a CIN census file against the XSD of its collection year.

The schemas are bundled in ``cscflow/sources/xsd`` (MIT, Social Finance Digital Labs;
see the README there). Validation parses the whole file (with the same safe parser
settings as the stream reader), so it is meant for LA-sized files; errors come back as
one-line texts for the quality report, capped at :data:`MAX_ERRORS`.

>>> schema_for(2016).name, schema_for(2019).name, schema_for(2023).name, schema_for(2031).name
('CIN_schema_2017.xsd', 'CIN_schema_2020.xsd', 'CIN_schema_2024.xsd', 'CIN_schema_2026.xsd')
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from lxml import etree

XSD_DIR = Path(__file__).parents[1] / "xsd"  # sources/xsd: the schemas the readers share
SCHEMA_YEARS = (2017, 2020, 2021, 2022, 2024, 2025, 2026)
MAX_ERRORS = 200


def schema_for(year: int | None) -> Path:
    """The bundled schema for a census year (the newest not after it; 2017 for earlier years)."""
    if year is None:
        year = SCHEMA_YEARS[-1]
    if year <= 2017:
        chosen = 2017
    elif year <= 2020:
        chosen = 2020
    elif year == 2023:  # the 2023 schema is identical to 2024's
        chosen = 2024
    else:
        chosen = max(y for y in SCHEMA_YEARS if y <= year)
    return XSD_DIR / f"CIN_schema_{chosen}.xsd"


@lru_cache(maxsize=8)
def _schema(path: Path) -> etree.XMLSchema:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.XMLSchema(etree.parse(str(path), parser))


def validate_cin(path: Path, year: int | None) -> list[str]:
    """Schema errors of a CIN census file as ``'xsd: <schema>: line N: message'`` texts.

    >>> from pathlib import Path
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "c.xml"; _ = p.write_text("<Message><Children/></Message>")
    >>> validate_cin(p, 2022)[0][:40]
    'xsd: CIN_schema_2022.xsd: line 1: Elemen'
    """
    xsd = schema_for(year)
    schema = _schema(xsd)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        doc = etree.parse(str(path), parser)
    except etree.XMLSyntaxError as err:
        return [f"xsd: {xsd.name}: not well-formed XML ({str(err).splitlines()[0]})"]
    if schema.validate(doc):
        return []
    errors = [f"xsd: {xsd.name}: line {e.line}: {e.message}" for e in schema.error_log]
    if len(errors) > MAX_ERRORS:
        errors = errors[:MAX_ERRORS] + [f"xsd: {xsd.name}: ... and {len(errors) - MAX_ERRORS} more errors"]
    return errors
