"""Engines: where the contract tables live and the plan's SQL runs.

An engine (:class:`monitoring.engines.base.Engine`) runs only trees rendered from the plan
(:mod:`monitoring.sqlcompile`), after its dialect's allow-list
(:mod:`monitoring.engines.screen`) has accepted every node, function and table of the tree.
Three implementations: DuckDB (embedded, the default: the store itself, or another DuckDB
file), PostgreSQL (a server, with a read-only role) and Apache Spark (a session, local or
on a cluster). :func:`open_engine` opens one from the ``--engine`` text of
``tiltak monitor run``.
"""

from __future__ import annotations

from monitoring.engines.base import Engine, EngineError, EngineUnavailable
from monitoring.engines.opening import as_engine, open_engine

__all__ = ["Engine", "EngineError", "EngineUnavailable", "as_engine", "open_engine"]
