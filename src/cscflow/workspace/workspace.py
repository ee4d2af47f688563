"""The workspace: one store of canonical tables, on DuckDB by default or on Spark.

A workspace folder holds ``cscflow.duckdb`` (the tables), ``key`` (the
pseudonymisation key, file mode 600: back it up, never share it) and
``workspace.json`` (settings such as the LA code). All table work goes through
Ibis, so the same expressions run on DuckDB and PySpark.

>>> import tempfile
>>> ws = Workspace(tempfile.mkdtemp(), la="886")
>>> ws.count("episodes")
0
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import ibis
import pandas as pd
import pyarrow as pa

from cscflow.errors import WorkspaceError
from cscflow.model.tables import RESTRICTED, SCHEMAS, schema
from cscflow.workspace import calendar as _calendar
from cscflow.workspace import identity
from cscflow.workspace.cache import GenerationCaches
from cscflow.workspace.engine import Engine, for_backend
from cscflow.workspace.pseudonym import load_or_create_key, pseudonymise

DB_FILE = "cscflow.duckdb"
KEY_FILE = "key"
SETTINGS_FILE = "workspace.json"
CALENDAR_TABLE = "calendar"
T = TypeVar("T")


def require_workspace(path: str | Path) -> Path:
    """``path`` as a Path if it holds a workspace (its :data:`DB_FILE`), else a :class:`WorkspaceError` saying what
    to do: the folder ``cscflow demo`` made holds its workspace in ``workspace/``, so that is suggested when there.

    >>> try:
    ...     require_workspace("/nonexistent")
    ... except WorkspaceError as err:
    ...     print(err.hint)
    create one with `cscflow load` or `cscflow demo`
    """
    p = Path(path)
    if (p / DB_FILE).exists():
        return p
    if (p / "workspace" / DB_FILE).exists():
        raise WorkspaceError(f"no workspace at {p}", hint=f"did you mean {p / 'workspace'}? (`cscflow demo` keeps its "
                                                          "workspace there)")
    raise WorkspaceError(f"no workspace at {p}", hint="create one with `cscflow load` or `cscflow demo`")


class Workspace:
    """A store of canonical tables (see :mod:`cscflow.model.tables`).

    Parameters
    ----------
    path:
        The workspace folder; created with its database and key if missing.
    la:
        The 3-digit DfE code of the LA whose data this is. Remembered in the
        folder; used in pseudonyms and where a source does not name its LA.
    read_only:
        Open the database read-only (several processes may then read at once).
    multi_la:
        Hold several LAs' data on purpose (regional or national work): the LA becomes part of each
        child's identity. Fixed when the workspace is created (see :mod:`cscflow.workspace.identity`).
    """

    engine: str

    def __init__(self, path: str | Path, *, la: str | None = None, read_only: bool = False,
                 multi_la: bool | None = None) -> None:
        self.path = Path(path)
        if self.path.exists() and not self.path.is_dir():
            raise WorkspaceError(
                f"{self.path} is a file, not a workspace folder", hint="give a folder path (it is created if missing)"
            )
        if read_only:
            require_workspace(self.path)
        self.path.mkdir(parents=True, exist_ok=True)
        self._settings_path: Path | None = self.path / SETTINGS_FILE  # None on Spark (no folder of its own)
        self.settings: dict[str, Any] = (
            json.loads(self._settings_path.read_text()) if self._settings_path.exists() else {}
        )
        if multi_la is not None and bool(multi_la) != bool(self.settings.get(identity.MULTI_LA)):
            if self.settings.get(identity.PSEUDONYM_LA) is not None or self.settings.get(identity.MULTI_LA):
                raise WorkspaceError(
                    f"workspace {self.path} is a {'multi' if self.multi_la else 'single'}-LA workspace",
                    hint="this is fixed when a workspace is first loaded: use a new folder for the other kind",
                )
            self.settings[identity.MULTI_LA] = bool(multi_la)
        if la is not None and self.multi_la:
            la = None  # in a multi-LA workspace --la names the files' LA (see sources.load), not the workspace's
        if la is not None and la != self.settings.get("la"):
            if self.settings.get("la") and not read_only:
                raise WorkspaceError(
                    f"workspace {self.path} holds LA {self.settings['la']}, not {la}",
                    hint="use a separate workspace per LA, or a national workspace",
                )
            self.settings["la"] = la
        if not read_only:
            self._settings_path.write_text(json.dumps(self.settings, indent=2))
        self.key = load_or_create_key(self.path / KEY_FILE)
        try:
            self.con = ibis.duckdb.connect(str(self.path / DB_FILE), read_only=read_only)
        except Exception as exc:  # duckdb raises IOException for locked or corrupt files
            raise WorkspaceError(
                f"cannot open {self.path / DB_FILE}: {exc}".splitlines()[0],
                hint="close other programs using this workspace, or open it read-only",
            ) from exc
        self._engine: Engine = for_backend(self.con)
        self.engine = self._engine.name
        self.read_only = read_only
        self.generation = 0  # bumped on every write (see touch)
        self._caches = GenerationCaches()
        if not read_only:
            self._ensure_tables()
        if self.settings.get(identity.PSEUDONYM_LA) is None and not self.multi_la:
            try:
                identity.check_legacy(self, self._stated_las())
            except WorkspaceError:
                self.con.disconnect()
                raise

    # -- construction on Spark -------------------------------------------------------------
    @classmethod
    def from_spark(
        cls, session: Any, database: str = "cscflow", *, key_file: str | Path = "cscflow.key", la: str = "",
        multi_la: bool = False,
    ) -> Workspace:
        """A workspace whose tables live in a Spark database (pyspark is imported only here).

        ``key_file`` holds the pseudonymisation key (created, mode 600, if missing). ``multi_la`` holds several
        LAs' data (national work): the LA is part of each child's identity, as in ``Workspace(..., multi_la=True)``;
        ``la`` is then ignored (each load names the LA of files that do not state one).
        """
        try:
            import ibis.backends.pyspark  # noqa: F401
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise WorkspaceError(
                "pyspark is not installed", hint="pip install 'cscflow[spark]'"
            ) from exc
        self = cls.__new__(cls)
        self.path = Path(key_file).parent
        self.settings = {identity.MULTI_LA: True} if multi_la else {"la": la, identity.PSEUDONYM_LA: la}
        self._settings_path = None
        self.key = load_or_create_key(Path(key_file))
        session.sql(f"CREATE DATABASE IF NOT EXISTS `{database}`")
        session.catalog.setCurrentDatabase(database)
        self.con = ibis.pyspark.connect(session)
        self._engine = for_backend(self.con)
        self.engine = self._engine.name
        self.read_only = False
        self.generation = 0
        self._caches = GenerationCaches()
        self._ensure_tables()
        return self

    # -- settings ------------------------------------------------------------------------
    @property
    def la(self) -> str:
        """The workspace's LA code ('' when not set)."""
        return str(self.settings.get("la") or "")

    @property
    def multi_la(self) -> bool:
        """Whether the workspace holds several LAs on purpose (the LA is part of each child's identity)."""
        return bool(self.settings.get(identity.MULTI_LA))

    @property
    def pseudonym_la(self) -> str | None:
        """The LA code in every pseudonym of a single-LA workspace, fixed at its first load (None before)."""
        value = self.settings.get(identity.PSEUDONYM_LA)
        return None if value is None else str(value)

    def _stated_las(self) -> list[str] | None:
        if "_source_children" not in self.con.list_tables():
            return None
        t = self.con.table("_source_children")
        return [str(v or "") for v in t.select(la=t.la.fill_null("")).distinct().la.execute()]

    def set(self, **settings: Any) -> None:
        """Remember settings in ``workspace.json`` (DuckDB workspaces)."""
        self.settings.update(settings)
        if self._settings_path is not None:
            self._settings_path.write_text(json.dumps(self.settings, indent=2))

    # -- tables --------------------------------------------------------------------------
    def _ensure_tables(self) -> None:
        existing = set(self.con.list_tables())
        for name in SCHEMAS:
            if name not in existing:
                self.con.create_table(name, schema=SCHEMAS[name])

    def table(self, name: str) -> ibis.Table:
        """The Ibis table ``name`` (a canonical table or any other table in the store)."""
        try:
            return self.con.table(name)  # one catalog lookup; listing every table costs a query per call
        except Exception:
            if name in self.con.list_tables():
                raise
            raise WorkspaceError(
                f"no table {name!r} in workspace {self.path}",
                hint="load data first (`cscflow load`)" if name in SCHEMAS else "check the table name",
            ) from None

    def tables(self) -> list[str]:
        """Names of the tables in the store."""
        return sorted(self.con.list_tables())

    def count(self, name: str) -> int:
        """Rows in table ``name``."""
        return int(self.table(name).count().execute())

    def write(self, name: str, data: pd.DataFrame | pa.Table | ibis.Table, *, mode: str = "append") -> int:
        """Write rows to table ``name``; ``mode`` is 'append' or 'replace'. Returns the rows written.

        Canonical tables are checked against their schema: missing columns are
        filled with nulls, unknown columns refused, types cast.
        """
        if mode not in ("append", "replace"):
            raise ValueError("mode must be 'append' or 'replace'")
        if isinstance(data, pd.DataFrame):
            data = pa.Table.from_pandas(data, preserve_index=False)
        n = data.num_rows if isinstance(data, pa.Table) else int(data.count().execute())
        if name in SCHEMAS:
            data = self._conform(name, data)
        self.touch()
        if mode == "replace" or name not in self.con.list_tables():
            self.con.create_table(name, data, overwrite=True, schema=SCHEMAS.get(name) if n == 0 else None)
        elif n:
            self.con.insert(name, data)
        return n

    def _conform(self, name: str, data: pa.Table | ibis.Table) -> ibis.Table | pa.Table:
        target = schema(name)
        cols = data.column_names if isinstance(data, pa.Table) else list(data.columns)
        unknown = sorted(set(cols) - set(target.names))
        if unknown:
            raise WorkspaceError(
                f"table {name!r} has no column(s) {', '.join(unknown)}",
                hint=f"its columns are {', '.join(target.names)}; put extra fields in 'attrs'",
            )
        if isinstance(data, pa.Table):
            arrays = []
            for col, typ in target.items():
                arr = data.column(col) if col in cols else pa.nulls(data.num_rows)
                arrays.append(arr.cast(typ.to_pyarrow()))
            return pa.Table.from_arrays(arrays, names=list(target.names))
        return data.select(
            [
                (data[c].cast(t) if c in cols else ibis.null().cast(t)).name(c)
                for c, t in target.items()
            ]
        )

    def touch(self) -> None:
        """Record that the data changed (writers that bypass :meth:`write` call it): results cached for
        this workspace, such as timelines, are worked out again."""
        self.generation += 1

    def delete(self, name: str, where: dict[str, Any]) -> None:
        """Delete rows of ``name`` whose columns equal the values in ``where`` (e.g. one source file)."""
        self.touch()
        t = self.table(name)
        keep = ~ibis.and_(*[t[c] == v for c, v in where.items()])
        # Rows with a null in a compared column are kept.
        keep = keep.fill_null(True)
        self.con.create_table(f"_{name}_keep", t.filter(keep), overwrite=True)
        self.con.create_table(name, self.con.table(f"_{name}_keep"), overwrite=True)
        self.con.drop_table(f"_{name}_keep")

    def execute(self, expr: ibis.Expr, **kwargs: Any) -> Any:
        """Run an expression on the workspace engine and return pandas."""
        return self._engine.execute(expr, **kwargs)

    # -- the engine (see cscflow.workspace.engine) ---------------------------------------------
    @property
    def dialect(self) -> str:
        """The SQL dialect of the engine (for :func:`ibis.to_sql`)."""
        return self._engine.dialect

    @property
    def in_place(self) -> bool:
        """Whether the engine deletes and updates rows in place and keeps table comments (DuckDB); otherwise
        (Spark) changed tables are rebuilt and nothing is stored between processes but the tables."""
        return self._engine.in_place

    def has_table(self, name: str) -> bool:
        """Whether the store (or this connection's temporary space) has a table or view ``name``."""
        return name in self._engine.list_tables()

    def create_table(self, name: str, data: Any = None, *, schema: Any = None, overwrite: bool = False) -> None:
        """Create table ``name`` from ``data`` (an expression, Arrow or pandas) or empty with ``schema``, as it
        is (no check against a canonical schema: see :meth:`write`)."""
        self.touch()
        self._engine.create_table(name, data, schema=schema, overwrite=overwrite)

    def insert(self, name: str, data: Any) -> None:
        """Append ``data`` to table ``name`` as it is (no check against a canonical schema: see :meth:`write`)."""
        self.touch()
        self._engine.insert(name, data)

    def drop_table(self, name: str) -> None:
        """Drop table ``name`` if it is there."""
        self._engine.drop_table(name)

    def delete_in(self, name: str, column: str, values: list[Any]) -> None:
        """Delete the rows of ``name`` whose ``column`` is one of ``values`` (Spark: a rebuild per value)."""
        if values:
            self.touch()
            self._engine.delete_in(name, column, list(values), self.delete)

    def materialise(self, name: str, expr: ibis.Table) -> ibis.Table:
        """``expr`` computed now into temporary table ``name`` (later writes do not change it); the table."""
        return self._engine.materialise(name, expr)

    def materialise_sql(self, name: str, sql: str, *, temp: bool = True) -> ibis.Table:
        """Compiled ``sql`` (in :attr:`dialect`) run once into table ``name``, temporary unless ``temp`` is
        false (Spark: always a cached temporary view); the table."""
        return self._engine.materialise_sql(name, sql, temp=temp)

    def sql(self, query: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run engine SQL where Ibis cannot (``?`` placeholders filled from ``params``); its rows as tuples."""
        return self._engine.sql(query, params)

    def register(self, name: str, data: pa.Table) -> ibis.Table:
        """An Arrow table visible to the engine as ``name`` (DuckDB: without copying; Spark: a temporary
        view); release it with :meth:`unregister`."""
        return self._engine.register(name, data)

    def unregister(self, name: str) -> None:
        """Release an Arrow table given to :meth:`register`."""
        self._engine.unregister(name)

    def drop_temporary(self, prefix: str) -> None:
        """Drop this connection's temporary tables, views and registered tables whose names start with
        ``prefix``."""
        self._engine.drop_temporary(prefix)

    def to_pyarrow(self, expr: ibis.Expr) -> pa.Table:
        """Run an expression on the workspace engine and return Arrow."""
        return self._engine.to_pyarrow(expr)

    def table_comment(self, name: str) -> str | None:
        """The comment stored on table ``name`` (None: no comment, or an engine without them)."""
        return self._engine.table_comment(name)

    def comment_table(self, name: str, text: str) -> None:
        """Store ``text`` as the comment on table ``name`` (engines without comments: nothing)."""
        self._engine.comment_table(name, text)

    def sql_connection(self) -> Any:
        """The engine's in-process DB-API connection (DuckDB), for readers that scan files with SQL of their
        own into the workspace's engine; None when the engine has none (Spark)."""
        return self._engine.sql_connection()

    def engine_session(self) -> Any:
        """The engine's own session, for libraries that drive the engine themselves (Splink): Spark's
        ``SparkSession``, DuckDB's connection."""
        return self._engine.session_object()

    def cached(self, namespace: str, key: Any, compute: Callable[[], T], *, size: int = 4,
               on_evict: Callable[[T], object] | None = None, valid: Callable[[T], bool] | None = None) -> T:
        """``compute()`` remembered on this workspace by ``namespace`` and ``key`` at the current
        :attr:`generation` (a write makes it computed afresh); each namespace keeps its last ``size`` values
        (see :mod:`cscflow.workspace.cache`)."""
        return self._caches.get(namespace, self.generation, key, compute, size=size, on_evict=on_evict,
                                valid=valid)

    def cached_values(self, namespace: str) -> list[Any]:
        """The values :meth:`cached` holds in ``namespace``, least recently used first (for inspection)."""
        return self._caches.values(namespace)

    def calendar(self) -> ibis.Table:
        """The England working-day calendar table (stored on first use, and by every load; a read-only
        workspace without it gets it in memory, built once per process)."""
        if CALENDAR_TABLE in self.con.list_tables():
            return self.con.table(CALENDAR_TABLE)
        if self.read_only:
            return self.cached("calendar", "frame", lambda: ibis.memtable(_calendar.calendar_frame()))
        self.con.create_table(CALENDAR_TABLE, _calendar.calendar_frame())
        return self.con.table(CALENDAR_TABLE)

    # -- pseudonyms ----------------------------------------------------------------------
    def pseudonymise(self, child_ids: Iterable[object], la: str | Iterable[str] | None = None, *,
                     namespace: str = "") -> Any:
        """Keyed pseudonyms for LA child ids (see :mod:`cscflow.workspace.pseudonym`).

        In a single-LA workspace every id is hashed with :attr:`pseudonym_la` (fixed now from
        :attr:`la` if nothing was loaded before) and ``la`` is ignored; in a multi-LA workspace
        ``la`` (one code, or one per id) is required. ``namespace`` keeps other ids apart (``"worker:"``).
        """
        if self.multi_la:
            if la is None:
                raise WorkspaceError("a multi-LA workspace needs the LA of every child id",
                                     hint="pass la= (one code, or one per id)")
            return pseudonymise(self.key, child_ids, namespace + la if isinstance(la, str)
                                else [namespace + a for a in la])
        if self.pseudonym_la is None:
            identity.settle(self, stated=(), given=None)
        return pseudonymise(self.key, child_ids, namespace + (self.pseudonym_la or ""))

    # -- reporting -----------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """Row counts per table and the span of the episodes (no identifiers)."""
        present = set(self.tables())  # a workspace opened read-only may predate a table (e.g. reviews)
        counts = {name: self.count(name) if name in present else 0 for name in SCHEMAS if name not in RESTRICTED}
        out: dict[str, Any] = {"workspace": str(self.path), "engine": self.engine, "la": self.la, "rows": counts}
        if counts.get("episodes"):
            ep = self.table("episodes")
            span = ep.aggregate(first=ep.start.min(), last=ep.start.max()).execute().iloc[0]
            stages = ep.group_by("stage").aggregate(n=ep.count()).order_by(ibis.desc("n")).execute()
            out["first_start"] = str(pd.Timestamp(span["first"]).date())
            out["last_start"] = str(pd.Timestamp(span["last"]).date())
            out["stages"] = dict(zip(stages["stage"], stages["n"].astype(int), strict=True))
        return out

    def close(self) -> None:
        """Release the database (DuckDB allows one writer at a time)."""
        self._caches.clear()
        self._engine.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Workspace({str(self.path)!r}, engine={self.engine!r}, la={self.la!r})"
