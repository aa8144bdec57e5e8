"""Opening an engine: :func:`open_engine` from an ``--engine`` text, :func:`as_engine` for
an engine or a DuckDB connection. Apart from :mod:`monitoring.engines.base` because they
name the concrete engines, which build on the base; re-exported by :mod:`monitoring.engines`."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from monitoring.engines.base import Engine, EngineError
from monitoring.engines.duckdb import DuckDBEngine


def as_engine(target: Any) -> Engine:
    """An Engine as is; a DuckDB connection wrapped in the DuckDB engine."""
    if isinstance(target, Engine):
        return target

    return DuckDBEngine(target)


def open_engine(text: str) -> Engine:
    """Open the engine an ``--engine`` text names.

    * ``duckdb:PATH`` (or ``duckdb-file:PATH``): the contract tables in another DuckDB file,
      opened read-only;
    * ``postgresql://[user@]host[:port]/database[?host=/socket/dir&schema=NAME]``: a
      PostgreSQL server (the password, if any, from ``PGPASSWORD`` or ``~/.pgpass``, never
      from the text, so that it never appears in a process list or a log);
    * ``spark://MASTER?tables=DIR`` (``spark://local[2]?tables=DIR``): a Spark session on
      that master, the contract tables read from Parquet folders ``DIR/<table>``.

    For ``monitor run --results engine`` (:mod:`monitoring.engines.results`): PostgreSQL
    takes ``results_user=ROLE`` and ``results_schema=NAME``, Spark ``results=DIR``; a
    DuckDB file takes the results in its schema ``tiltak_results``.
    """
    scheme, _, rest = text.partition(":")
    scheme = scheme.lower()
    if scheme in ("duckdb", "duckdb-file"):
        from monitoring.engines.duckdb import open_duckdb_file

        return open_duckdb_file(rest)
    if scheme in ("postgresql", "postgres"):
        from monitoring.engines.postgres import PostgresEngine

        return PostgresEngine.from_url(text)
    if scheme == "spark":
        from monitoring.engines.spark import SparkEngine

        master, _, query = text[len("spark://"):].partition("?")  # (local[2] is no host name for urlsplit)
        options = parse_qs(query)
        if "tables" not in options:
            raise EngineError(f"--engine {text}: expected spark://MASTER?tables=DIR (the folder of the contract "
                              "tables as Parquet, one folder per table)")
        return SparkEngine.open(master, options["tables"][0], options={k: v[-1] for k, v in options.items()})
    raise EngineError(f"--engine {text!r}: expected duckdb:PATH, postgresql://HOST/DATABASE or "
                      "spark://MASTER?tables=DIR")
