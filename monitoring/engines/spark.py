"""The Apache Spark engine: the contract tables as Parquet folders, queries in Spark SQL.

The engine registers each contract table as a temporary view itself (``DIR/<table>``,
through the DataFrame reader: no path ever appears in SQL), switches off SQL on files
(``spark.sql.runSQLOnFiles = false``, so ``parquet.`/path``` cannot be read even if a tree
slipped past the allow-list), and builds the panel as a cached view. Spark has no roles
in local mode; on a cluster, run it under a service account that can read only the
extract folder.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from monitoring.contract import CONTRACT
from monitoring.engines.base import Engine, EngineError, EngineUnavailable

SESSION_CONFIG = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.runSQLOnFiles": "false",
    "spark.driver.extraJavaOptions": "-Duser.timezone=UTC",
    "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
}


class SparkEngine(Engine):
    dialect = "spark"

    def __init__(self, spark: Any, name: str = "spark", owned: bool = False) -> None:
        self.spark = spark
        self.name = name
        self._owned = owned
        self._cached: list[Any] = []
        self.options: dict[str, str] = {}  # results=DIR: where --results engine writes
        self.tables_folder: Path | None = None
        spark.conf.set("spark.sql.runSQLOnFiles", "false")

    @classmethod
    def session(cls, master: str, app: str = "tiltak", config: dict | None = None) -> Any:
        """A Spark session on ``master`` (``local[2]``, ``spark://host:7077``, ...); ``config``
        adds Spark settings (e.g. ``spark.driver.memory``)."""
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise EngineUnavailable("--engine spark://...: pyspark is not installed; install it with: "
                                    "pip install pyspark (and a Java runtime)") from None

        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # the workers run this Python (with pandas, pyarrow)
        builder = SparkSession.builder.master(master).appName(app)
        workers = {"spark.pyspark.python": sys.executable, "spark.pyspark.driver.python": sys.executable}
        for key, value in {**SESSION_CONFIG, **workers, **(config or {})}.items():
            builder = builder.config(key, value)
        try:
            return builder.getOrCreate()
        except Exception as exc:  # noqa: BLE001 - the JVM failing to start (no Java) is reported in one line
            raise EngineUnavailable(f"--engine spark://{master}: Spark could not start ({type(exc).__name__}); "
                                    "is a Java runtime (17 or later) installed?") from None

    @classmethod
    def open(cls, master: str, tables: str | Path, spark: Any = None, options: dict | None = None) -> "SparkEngine":
        """An engine on ``master`` reading the contract tables from Parquet folders in ``tables``
        (``options``: further settings of the URL, e.g. ``results`` for --results engine)."""
        folder = Path(tables)
        if not folder.is_dir():
            raise EngineError(f"--engine spark://{master}?tables={tables}: no such folder")
        engine = cls(spark or cls.session(master), f"spark://{master}", owned=spark is None)
        engine.register(folder)
        engine.tables_folder = folder
        engine.options = dict(options or {})
        return engine

    def register(self, folder: Path, panel: bool = False) -> list[str]:
        """Register ``folder/<table>`` (Parquet) as a view for every contract table found
        (``panel``: and ``folder/person_month``, a panel made elsewhere)."""

        found = []
        for table in (*CONTRACT, *(("person_month",) if panel else ())):
            path = folder / table
            if path.exists():
                self.spark.read.parquet(str(path)).createOrReplaceTempView(table)
                found.append(table)
        missing = [t for t in ("persons", "residence", "decisions") if t not in found]
        if missing and not panel:
            raise EngineError(f"spark tables folder {folder}: no Parquet folder for {', '.join(missing)}; "
                              "expected one folder per contract table (e.g. persons/)")
        return found

    def tables(self) -> set[str]:
        return {t.name for t in self.spark.catalog.listTables()}

    def columns(self, table: str) -> set[str]:
        return set(self.spark.table(table).columns)

    def _fetch(self, sql: str) -> list[tuple]:
        return [tuple(row) for row in self.spark.sql(sql).collect()]

    def _materialise(self, table: str, tree: Any) -> int:
        frame = self.spark.sql(tree.sql(dialect="spark", identify=True)).cache()
        rows = frame.count()
        frame.createOrReplaceTempView(table)
        self._cached.append(frame)
        return int(rows)

    def close(self) -> None:
        for frame in self._cached:
            frame.unpersist()
        self._cached.clear()
        if self._owned:
            self.spark.stop()
