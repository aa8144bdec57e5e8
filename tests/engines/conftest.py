"""Fixtures of the engine tests: the golden registers on DuckDB, a private PostgreSQL cluster
and one local Spark session for the whole test session."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "monitoring"))  # the golden registers (registers.py)

import datetime as dt
import os

import pytest


def _unavailable(engine: str, reason: str):
    """Skip on a developer's machine without the engine; fail in CI, where .ci/run installs it."""
    if os.environ.get("CI"):
        pytest.fail(f"{engine} is not available in CI: {reason}", pytrace=False)
    pytest.skip(f"{engine} not available on this machine: {reason}")


@pytest.fixture(scope="session")
def golden_store(tmp_path_factory):
    """The golden registers loaded into a DuckDB store and monitored there (the default engine)."""
    from monitoring.runs import run_models
    from registers import AS_OF, loaded_store, monitored_models

    store = loaded_store(tmp_path_factory.mktemp("golden-store"))
    run_models(store, monitored_models(), as_of=dt.date.fromisoformat(AS_OF))
    return store


@pytest.fixture(scope="session")
def postgres_cluster(golden_store):
    """A private PostgreSQL cluster holding the golden registers in schema 'registers'."""
    from engine_servers import load_postgres, start_postgres

    try:
        import psycopg  # noqa: F401
        cluster = start_postgres()
    except (ImportError, RuntimeError) as exc:
        _unavailable("PostgreSQL", str(exc))
    try:
        load_postgres(cluster, golden_store)
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def spark_session():
    """One local Spark session (2 worker threads) for the whole test session."""
    from engine_servers import spark_session as start
    from monitoring.engines import EngineUnavailable

    try:
        spark = start()
    except (RuntimeError, EngineUnavailable) as exc:
        _unavailable("Spark", str(exc))
    yield spark
    spark.stop()


@pytest.fixture(scope="session")
def spark_tables(golden_store, tmp_path_factory):
    from engine_servers import write_parquet

    return write_parquet(golden_store, tmp_path_factory.mktemp("parquet"))
