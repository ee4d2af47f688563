"""One child per child: which LA code goes into a workspace's pseudonyms, decided once.

A child's pseudonym is ``HMAC(key, "<la>|<LA child id>")``. If two files of the same LA hashed the
same child with different ``<la>`` (one stating its LA, one not), the child would appear twice. So
a workspace fixes the LA used in its pseudonyms at its first load and keeps it:

- a **single-LA** workspace (the default) learns its LA once: from ``--la``, from any file that
  states it (the CIN census header), or from what was loaded before. Every source is hashed with
  the LA fixed at the first load, whatever the order of loading. A file that states another LA is
  refused.
- a **multi-LA** workspace (``cscflow load --multi-la``, for regional or national data) makes the
  LA part of the child's identity: each row is hashed with its own LA (the file's, or ``--la`` for
  files that do not state one), and the app can filter by LA.

Workspaces loaded by cscflow 0.1 without ``--la`` may hold CIN census children hashed with their LA
beside other files' children hashed without: :func:`check_legacy` refuses them with what to do.

>>> import tempfile
>>> from cscflow.workspace import Workspace
>>> ws = Workspace(tempfile.mkdtemp())
>>> settle(ws, stated={"886"}, given=None)
'886'
>>> ws.la, ws.pseudonym_la
('886', '886')
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cscflow.errors import SourceError, WorkspaceError

#: settings keys in workspace.json
PSEUDONYM_LA = "pseudonym_la"
MULTI_LA = "multi_la"


def _code(value: object) -> str:
    text = "" if value is None else str(value).strip()
    return "" if text.lower() in ("nan", "none") else text


def settle(ws: Any, stated: Iterable[str], given: str | None = None, *, files: dict[str, set[str]] | None = None) -> str:
    """Decide (once) and return the LA code of a single-LA workspace's pseudonyms before a load.

    ``stated``: the LA codes the files of this load state; ``given``: ``--la`` for this load;
    ``files``: file name -> codes it states (named in the error when two LAs meet). In a multi-LA
    workspace nothing is fixed ('' is returned: each row carries its own LA).
    """
    stated = {c for c in (_code(s) for s in stated) if c}
    given = _code(given) or None
    if ws.multi_la:
        return ""
    known = ws.la or given
    if given and ws.la and given != ws.la:
        raise WorkspaceError(f"workspace {ws.path} holds LA {ws.la}'s data, not LA {given}'s",
                             hint="use a workspace per LA, or a multi-LA workspace (`cscflow load --multi-la`)")
    others = sorted(stated - {known}) if known else sorted(stated)
    if (known and others) or len(others) > 1:
        codes = sorted(stated | ({known} if known else set()))
        odd = [f"{name} states LA {', '.join(sorted(c))}" for name, c in sorted((files or {}).items())
               if c and c != {known}]
        named = "; ".join(odd[:3]) + (f"; and {len(odd) - 3} more" if len(odd) > 3 else "")
        raise SourceError(
            f"files of more than one LA in a single-LA workspace: LAs {', '.join(codes)}"
            + (f" ({named})" if named else "") + (f"; the workspace holds LA {known}" if known else ""),
            hint="load each LA into its own workspace, or make a multi-LA workspace on purpose with "
                 "`cscflow load --multi-la` (the LA then becomes part of each child's identity)",
        )
    la = known or (others[0] if others else "")
    if la and not ws.la:
        ws.set(la=la)
    if ws.pseudonym_la is None:
        ws.set(**{PSEUDONYM_LA: la})
    return str(ws.pseudonym_la)


def check_legacy(ws: Any, stated_las: list[str] | None) -> None:
    """Record the pseudonym LA of a workspace loaded by cscflow 0.1, or refuse one that split children.

    ``stated_las``: the distinct LA values of ``_source_children`` (None when the table is absent).
    cscflow 0.1 hashed every source with the workspace LA when one was set (consistent), and
    otherwise each child with the LA its file stated ('' for files stating none).
    """
    if ws.multi_la or ws.settings.get(PSEUDONYM_LA) is not None or not stated_las:
        return
    values = {_code(v) for v in stated_las}
    if ws.la:
        ws.settings[PSEUDONYM_LA] = ws.la
    elif len(values) == 1:
        ws.settings[PSEUDONYM_LA] = values.pop()
    else:
        raise WorkspaceError(
            f"workspace {ws.path} was loaded by an older cscflow without --la: children of files stating "
            f"their LA ({', '.join(sorted(v for v in values if v))}) were pseudonymised apart from the same "
            "children in files that do not, so some children are counted twice",
            hint="load the files again into a new workspace (`cscflow load NEW-FOLDER FILES...`); "
                 "the new load gives one child per child whatever the order and whether --la is given",
        )
    if not ws.read_only:
        ws.set()


def la_for_rows(ws: Any, row_las: list[str], given: str | None, source: str) -> list[str]:
    """The LA of each id in a multi-LA workspace: the row's own, else ``given``; refuse ids with none."""
    given = _code(given)
    out = [(_code(a) or given) for a in row_las]
    if any(not a for a in out):
        raise SourceError(f"{source} does not state its LA, and this workspace holds several LAs",
                          hint="give the LA of this file with --la CODE (the 3-digit DfE code)")
    return out
