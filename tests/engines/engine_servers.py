"""Private engines for the tests: a PostgreSQL cluster on a local socket, a local Spark session.

PostgreSQL: ``initdb`` + ``pg_ctl`` from Debian's ``postgresql`` package (found on PATH or
under /usr/lib/postgresql/*/bin), a cluster in a fresh temporary folder listening only on
a Unix socket in that folder (``listen_addresses=''``), stopped at the end. initdb refuses
to run as root, so as root the cluster runs as the ``postgres`` system user (created by
the package) via ``runuser``. Spark: one local session with 2 worker threads.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

READER = "tiltak_reader"  # the least-privilege role the tests connect as
WRITER = "tiltak_writer"  # the role that writes results back (USAGE and CREATE on RESULTS only)
SCHEMA = "registers"
RESULTS = "tiltak_results"
DATABASE = "tiltak"

PG_TYPES = {"VARCHAR": "text", "DATE": "date", "BOOLEAN": "boolean", "INTEGER": "integer", "BIGINT": "bigint",
            "DOUBLE": "double precision", "TIMESTAMP": "timestamp"}


def pg_binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


@dataclass
class PostgresCluster:
    folder: Path
    user: str
    run_as: list[str]

    @property
    def socket(self) -> str:
        return str(self.folder)

    def url(self, user: str = READER, schema: str = SCHEMA, results_user: str | None = None) -> str:
        writer = f"&results_user={results_user}" if results_user else ""
        return f"postgresql://{user}@localhost/{DATABASE}?host={self.socket}&schema={schema}{writer}"

    def connect(self, dbname: str = DATABASE):
        import psycopg

        return psycopg.connect(host=self.socket, user=self.user, dbname=dbname, autocommit=True)

    def stop(self) -> None:
        subprocess.run([*self.run_as, pg_binary("pg_ctl"), "-D", str(self.folder / "data"), "stop", "-m", "fast"],
                       capture_output=True, timeout=60, cwd=self.folder)
        shutil.rmtree(self.folder, ignore_errors=True)


def start_postgres() -> PostgresCluster:
    """Start a private cluster (raises RuntimeError when PostgreSQL is not installed)."""
    initdb, pg_ctl = pg_binary("initdb"), pg_binary("pg_ctl")
    if not initdb or not pg_ctl:
        raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) not found; install Debian's postgresql "
                           "package (.ci/run does)")
    folder = Path(tempfile.mkdtemp(prefix="tiltak-pg-"))
    run_as: list[str] = []
    user = os.environ.get("USER") or "postgres"
    if os.geteuid() == 0:
        import pwd

        user = "postgres"
        entry = pwd.getpwnam(user)  # created by the postgresql package
        os.chown(folder, entry.pw_uid, entry.pw_gid)
        run_as = ["runuser", "-u", user, "--"]
    else:
        import pwd

        user = pwd.getpwuid(os.geteuid()).pw_name
    data = folder / "data"
    # cwd: a folder the server's user can enter (the checkout may be private to root)
    subprocess.run([*run_as, initdb, "-D", str(data), "-U", user, "-A", "trust", "-E", "UTF8", "--no-locale"],
                   check=True, capture_output=True, timeout=120, cwd=folder)
    options = f"-c listen_addresses='' -c unix_socket_directories={folder} -c fsync=off -c full_page_writes=off"
    subprocess.run([*run_as, pg_ctl, "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w", "start"],
                   check=True, capture_output=True, timeout=120, cwd=folder)
    cluster = PostgresCluster(folder, user, run_as)
    with cluster.connect("postgres") as con:
        con.execute(f"CREATE DATABASE {DATABASE}")
    return cluster


def load_postgres(cluster: PostgresCluster, store: Path, schema: str = SCHEMA) -> None:
    """Copy the contract tables of a DuckDB store into ``schema``; grant the reader SELECT only."""
    import duckdb

    from monitoring.contract import CONTRACT

    source = duckdb.connect(str(store), read_only=True)
    with cluster.connect() as con:
        con.execute(f"CREATE SCHEMA {schema}")
        for name, table in CONTRACT.items():
            columns = ", ".join(f'"{c.name}" {PG_TYPES[c.type]}' for c in table.columns)
            con.execute(f"CREATE TABLE {schema}.{name} ({columns})")
            names = [c.name for c in table.columns]
            rows = source.execute(f"SELECT {', '.join(names)} FROM {name}").fetchall()
            with con.cursor().copy(f"COPY {schema}.{name} ({', '.join(names)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            con.execute(f"ANALYZE {schema}.{name}")
        con.execute(f"DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{READER}') "
                    f"THEN CREATE ROLE {READER} LOGIN; END IF; END$$")
        con.execute(f"REVOKE ALL ON DATABASE {DATABASE} FROM PUBLIC")
        con.execute(f"GRANT CONNECT, TEMP ON DATABASE {DATABASE} TO {READER}")
        con.execute(f"GRANT USAGE ON SCHEMA {schema} TO {READER}")
        con.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {READER}")
        # the results' writer: USAGE and CREATE on its own schema, nothing on the registers
        con.execute(f"DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{WRITER}') "
                    f"THEN CREATE ROLE {WRITER} LOGIN; END IF; END$$")
        con.execute(f"GRANT CONNECT ON DATABASE {DATABASE} TO {WRITER}")
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {RESULTS}")
        con.execute(f"GRANT USAGE, CREATE ON SCHEMA {RESULTS} TO {WRITER}")
    source.close()


def spark_session():
    """The local Spark session of the test session (raises RuntimeError when Spark cannot run)."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise RuntimeError("pyspark is not installed (pip install pyspark; .ci/run installs it)") from None
    if not shutil.which("java") and not os.environ.get("JAVA_HOME"):
        raise RuntimeError("no Java runtime (install Debian's default-jre-headless; .ci/run does)")
    from monitoring.engines.spark import SparkEngine

    return SparkEngine.session("local[2]", "tiltak-tests")


def write_parquet(store: Path, folder: Path) -> Path:
    """The contract tables of a DuckDB store as Parquet folders ``folder/<table>/part.parquet``."""
    import duckdb

    from monitoring.contract import CONTRACT

    source = duckdb.connect(str(store), read_only=True)
    for name in CONTRACT:
        (folder / name).mkdir(parents=True, exist_ok=True)
        source.execute(f"COPY (SELECT * FROM {name}) TO '{folder / name / 'part.parquet'}' (FORMAT parquet)")
    source.close()
    return folder
