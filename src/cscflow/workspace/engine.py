"""The engine behind a workspace: the one place that knows DuckDB from Spark.

Everything outside :mod:`cscflow.workspace` works through Ibis expressions and the
:class:`~cscflow.workspace.Workspace` methods that delegate here (Splink's database-API pattern): materialise
an expression as a (temporary) table, run engine SQL where Ibis cannot, register an Arrow table, list and drop
tables. :class:`DuckDBEngine` and :class:`SparkEngine` implement them; :func:`for_backend` picks one.

>>> import ibis, pyarrow as pa
>>> eng = for_backend(ibis.duckdb.connect())
>>> t = eng.register("_t", pa.table({"x": [1, 2, 3]}))
>>> eng.sql("SELECT sum(x) FROM _t WHERE x > ?", [1])
[(5,)]
>>> eng.materialise("_m", t.filter(t.x < 3)).count().execute()
2
"""

from __future__ import annotations

import contextlib
from typing import Any

import ibis
import pyarrow as pa


class Engine:
    """What the workspace needs of an engine (subclassed per engine)."""

    #: The engine's name as the workspace reports it (``Workspace.engine``).
    name = ""
    #: Whether rows can be deleted and updated in place and tables commented (otherwise tables are rebuilt).
    in_place = False

    def __init__(self, con: Any) -> None:
        self.con = con

    @property
    def dialect(self) -> str:
        """The SQL dialect of the engine's Ibis backend (for :func:`ibis.to_sql`)."""
        return str(self.con.name)

    # -- tables ------------------------------------------------------------------------------
    def list_tables(self) -> list[str]:
        """Names of the tables and views the engine sees (temporary ones too)."""
        return list(self.con.list_tables())

    def table(self, name: str) -> ibis.Table:
        """The Ibis table ``name``."""
        return self.con.table(name)

    def create_table(self, name: str, obj: Any = None, *, schema: Any = None, overwrite: bool = False) -> None:
        """Create table ``name`` from ``obj`` (an expression, Arrow or pandas) or an empty one of ``schema``."""
        self.con.create_table(name, obj, schema=schema, overwrite=overwrite)

    def insert(self, name: str, obj: Any) -> None:
        """Append ``obj`` (an expression, Arrow or pandas) to table ``name``."""
        self.con.insert(name, obj)

    def drop_table(self, name: str) -> None:
        """Drop table ``name`` if it is there."""
        self.con.drop_table(name, force=True)

    def to_pyarrow(self, expr: ibis.Expr) -> pa.Table:
        """Run ``expr`` and return Arrow."""
        return self.con.to_pyarrow(expr)

    def execute(self, expr: ibis.Expr, **kwargs: Any) -> Any:
        """Run ``expr`` and return pandas."""
        return self.con.execute(expr, **kwargs)

    # -- engine-specific -----------------------------------------------------------------------
    def sql(self, query: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:  # pragma: no cover
        raise NotImplementedError

    def register(self, name: str, data: pa.Table) -> ibis.Table:  # pragma: no cover
        raise NotImplementedError

    def unregister(self, name: str) -> None:  # pragma: no cover
        raise NotImplementedError

    def materialise(self, name: str, expr: ibis.Table) -> ibis.Table:  # pragma: no cover
        raise NotImplementedError

    def materialise_sql(self, name: str, sql: str, *, temp: bool = True) -> ibis.Table:  # pragma: no cover
        raise NotImplementedError

    def drop_temporary(self, prefix: str) -> None:  # pragma: no cover
        raise NotImplementedError

    def delete_in(self, table: str, column: str, values: list[Any], rebuild: Any) -> None:  # pragma: no cover
        raise NotImplementedError

    def table_comment(self, name: str) -> str | None:
        """The comment on (non-temporary) table ``name``; None when it is not there or has none."""
        return None

    def comment_table(self, name: str, text: str) -> None:
        """Write ``text`` as the comment on table ``name`` (engines without comments: nothing)."""

    def sql_connection(self) -> Any:
        """The engine's in-process DB-API connection, or None when it has none."""
        return None

    def session_object(self) -> Any:
        """The engine's own session object (Spark's session, DuckDB's connection)."""
        return self.sql_connection()

    def close(self) -> None:
        """Release the engine's resources."""


class DuckDBEngine(Engine):
    """A DuckDB file (or memory) database through Ibis's DuckDB backend."""

    name = "duckdb"
    in_place = True

    def __init__(self, con: Any) -> None:
        super().__init__(con)
        # DuckDB's progress bar is drawn from the engine's threads on long queries: slow, and noise for users
        with contextlib.suppress(Exception):
            con.con.execute("SET enable_progress_bar = false")

    def sql(self, query: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run ``query`` (DuckDB SQL, ``?`` placeholders filled from ``params``) and return its rows."""
        cur = self.con.con.execute(query, params) if params is not None else self.con.con.execute(query)
        try:
            return list(cur.fetchall())
        except Exception:  # noqa: BLE001 - a statement without a result
            return []

    def register(self, name: str, data: pa.Table) -> ibis.Table:
        """``data`` visible to the engine as ``name`` (registered without copying)."""
        self.con.con.register(name, data)
        return self.con.table(name)

    def unregister(self, name: str) -> None:
        self.con.con.unregister(name)

    def materialise(self, name: str, expr: ibis.Table) -> ibis.Table:
        """``expr`` computed now into temporary table ``name``."""
        self.con.create_table(name, expr, temp=True, overwrite=True)
        return self.con.table(name)

    def materialise_sql(self, name: str, sql: str, *, temp: bool = True) -> ibis.Table:
        """Run compiled ``sql`` once into (temporary) table ``name``.

        Row order in the table is never relied on, so DuckDB may write it from all threads without keeping
        the input's order; the setting is put back after.
        """
        raw = self.con.con
        keep = raw.execute("SELECT current_setting('preserve_insertion_order')").fetchone()[0]
        raw.execute("SET preserve_insertion_order = false")
        try:
            raw.execute(f'CREATE OR REPLACE {"TEMP " if temp else ""}TABLE "{name}" AS {sql}')
        finally:
            raw.execute(f"SET preserve_insertion_order = {'true' if keep else 'false'}")
        return self.con.table(name)

    def drop_temporary(self, prefix: str) -> None:
        """Drop the temporary tables, views and registered Arrow tables whose names start with ``prefix``."""
        drop_temp(self.con.con, prefix)

    def delete_in(self, table: str, column: str, values: list[Any], rebuild: Any) -> None:
        marks = ", ".join("?" for _ in values)
        self.con.con.execute(f'DELETE FROM "{table}" WHERE "{column}" IN ({marks})', values)

    def table_comment(self, name: str) -> str | None:
        row = self.con.con.execute(
            "SELECT comment FROM duckdb_tables() WHERE NOT temporary AND table_name = ?", [name]).fetchone()
        return str(row[0]) if row and row[0] else None

    def comment_table(self, name: str, text: str) -> None:
        quoted = text.replace("'", "''")
        self.con.con.execute(f"COMMENT ON TABLE \"{name}\" IS '{quoted}'")

    def sql_connection(self) -> Any:
        return self.con.con

    def close(self) -> None:
        self.con.disconnect()


class SparkEngine(Engine):
    """A Spark session's current database through Ibis's PySpark backend (it makes no temporary tables:
    temporary views stand in for them)."""

    name = "pyspark"
    in_place = False

    @property
    def session(self) -> Any:
        """The Spark session."""
        return self.con._session

    def sql(self, query: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run ``query`` (Spark SQL; ``?`` placeholders filled from ``params`` as literals) and return its rows."""
        if params:
            parts = query.split("?")
            if len(parts) != len(params) + 1:
                raise ValueError("one parameter per ? in the query")
            query = parts[0] + "".join(_spark_literal(p) + rest for p, rest in zip(params, parts[1:], strict=True))
        return [tuple(r) for r in self.session.sql(query).collect()]

    def register(self, name: str, data: pa.Table) -> ibis.Table:
        """``data`` as temporary view ``name`` of a DataFrame made from it."""
        self.session.createDataFrame(data).createOrReplaceTempView(name)
        return self.con.table(name)

    def unregister(self, name: str) -> None:
        self.session.catalog.dropTempView(name)

    def session_object(self) -> Any:
        return self.session

    def materialise(self, name: str, expr: ibis.Table) -> ibis.Table:
        """``expr`` computed now into temporary view ``name`` (checkpointed: later writes do not change it)."""
        df = self.session.sql(self.con.compile(expr)).localCheckpoint(eager=True)
        df.createOrReplaceTempView(name)
        return self.con.table(name)

    def materialise_sql(self, name: str, sql: str, *, temp: bool = True) -> ibis.Table:
        """``sql`` cached as temporary view ``name`` (Spark keeps no tables of its own here)."""
        self.session.sql(sql).cache().createOrReplaceTempView(name)
        return self.con.table(name)

    def drop_temporary(self, prefix: str) -> None:
        for t in self.session.catalog.listTables():
            if t.isTemporary and t.name.startswith(prefix):
                self.session.catalog.dropTempView(t.name)

    def delete_in(self, table: str, column: str, values: list[Any], rebuild: Any) -> None:
        for value in values:
            rebuild(table, {column: value})


def drop_temp(con: Any, tag: str) -> None:
    """Drop the temporary tables, views and registered Arrow tables of DuckDB connection ``con`` whose names
    start with ``tag``."""
    views = con.execute("SELECT view_name FROM duckdb_views() WHERE temporary AND starts_with(view_name, ?)",
                        [tag]).fetchall()
    for (name,) in views:
        con.unregister(name)  # releases a registered Arrow table (a no-op for a view of our own SQL)
        con.execute(f'DROP VIEW IF EXISTS "{name}"')
    tables = con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary AND starts_with(table_name, ?)",
                         [tag]).fetchall()
    for (name,) in tables:
        con.execute(f'DROP TABLE IF EXISTS "{name}"')


def _spark_literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def for_backend(con: Any) -> Engine:
    """The :class:`Engine` for an Ibis backend (DuckDB or PySpark)."""
    if con.name == "pyspark":
        return SparkEngine(con)
    return DuckDBEngine(con)
