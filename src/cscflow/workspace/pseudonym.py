"""Keyed pseudonyms for LA child ids (HMAC-SHA256 with the workspace key).

The same id, LA and key always give the same pseudonym; a different key gives
a different one, so pseudonyms from two workspaces cannot be joined unless they
share a key on purpose.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from cscflow.errors import WorkspaceError

#: Hex characters kept from the digest: 80 bits, so 10 million children collide
#: with probability about 4e-11.
PSEUDONYM_LENGTH = 20


def normalise_id(value: object) -> str:
    """The form of an LA child id that is hashed: text, trimmed, upper case.

    >>> normalise_id(" ab123 "), normalise_id(123.0)
    ('AB123', '123')
    """
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip().upper()


def pseudonym(key: bytes, child_id: object, la: str = "") -> str:
    """The pseudonym of one LA child id.

    >>> k = bytes(32)
    >>> pseudonym(k, "A1", "886") == pseudonym(k, " a1", "886")
    True
    >>> pseudonym(k, "A1", "886") == pseudonym(b"other key", "A1", "886")
    False
    """
    msg = f"{la}|{normalise_id(child_id)}".encode()
    return hmac.new(key, msg, hashlib.sha256).hexdigest()[:PSEUDONYM_LENGTH]


def pseudonymise(key: bytes, child_ids: Iterable[object], la: str | Iterable[str] = "") -> np.ndarray:
    """Pseudonyms for many ids at once (each distinct id is hashed once).

    ``la`` is one LA code for all ids, or one per id. Missing ids stay missing (None).

    >>> pseudonymise(bytes(32), ["A1", "A1", None]).tolist()[2] is None
    True
    """
    ids = pd.Series(list(child_ids) if not isinstance(child_ids, pd.Series) else child_ids, dtype=object)
    if isinstance(la, str):
        keys = ids.map(lambda v: None if _missing(v) else f"{la}|{normalise_id(v)}")
    else:
        las = pd.Series(list(la), dtype=object, index=ids.index)
        keys = pd.Series(
            [None if _missing(v) else f"{a}|{normalise_id(v)}" for v, a in zip(ids, las, strict=True)],
            dtype=object,
        )
    codes, uniques = pd.factorize(keys, use_na_sentinel=True)
    keyed = hmac.new(key, digestmod=hashlib.sha256)  # copying a keyed state skips re-keying per id
    out: list[str | None] = []
    append, n = out.append, PSEUDONYM_LENGTH
    for u in uniques:
        h = keyed.copy()
        h.update(u.encode())
        append(h.hexdigest()[:n])
    out.append(None)
    picked: np.ndarray = np.array(out, dtype=object)[codes]  # code -1 picks the trailing None
    return picked


def _missing(v: object) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v)) or (isinstance(v, str) and not v.strip())


def load_or_create_key(path: Path) -> bytes:
    """Read the key at ``path``, creating a random 256-bit key (file mode 600) if there is none."""
    if path.exists():
        text = path.read_text().strip()
        try:
            key = bytes.fromhex(text)
        except ValueError:
            raise WorkspaceError(
                f"the key file {path} does not hold a hex key",
                hint="restore it from your backup; without it pseudonyms cannot be reproduced",
            ) from None
        if len(key) < 16:
            raise WorkspaceError(f"the key in {path} is too short ({len(key)} bytes)", hint="restore it")
        return key
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
    with os.fdopen(fd, "w") as fh:
        fh.write(key.hex() + "\n")
    os.chmod(path, 0o600)
    return key
