"""Run a command with ``DATABASE_URL`` pointing at a PostgreSQL server.

Order of preference: ``DATABASE_URL`` if it already names PostgreSQL; the local server on
127.0.0.1:5432 (user ``postgres``); else a throwaway cluster started from the installed
PostgreSQL binaries with pytest-postgresql's executor, stopped afterwards. With CI=true a
missing PostgreSQL is an error, never a skip.

Usage: python scripts/with_postgres.py [--db NAME] -- command [args...]
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile


def _reachable(host: str, port: int) -> bool:
    try:
        import psycopg
    except ImportError:  # pragma: no cover
        return False
    try:
        with psycopg.connect(host=host, port=port, user="postgres", dbname="postgres", connect_timeout=3):
            return True
    except Exception:
        return False


def _ensure_db(host: str, port: int, db: str) -> None:
    import psycopg

    with psycopg.connect(host=host, port=port, user="postgres", dbname="postgres", autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{db}"')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_ctl() -> str | None:
    found = shutil.which("pg_ctl")
    if found:
        return found
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return candidates[-1] if candidates else None


def main(argv: list[str]) -> int:
    db = "o2o"
    if argv[:1] == ["--db"]:
        db, argv = argv[1], argv[2:]
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    env = dict(os.environ)
    url = env.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        return subprocess.call(argv, env=env)
    if _reachable("127.0.0.1", 5432):
        env["DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:5432/{db}"
        _ensure_db("127.0.0.1", 5432, db)
        print(f"with_postgres: using the server on 127.0.0.1:5432 (database {db})", file=sys.stderr)
        return subprocess.call(argv, env=env)
    pg_ctl = _pg_ctl()
    if pg_ctl is None:
        print("with_postgres: no PostgreSQL server and no PostgreSQL binaries (apt-get install postgresql)",
              file=sys.stderr)
        return 1
    from pytest_postgresql.executors import PostgreSQLExecutor

    port = _free_port()
    datadir = tempfile.mkdtemp(prefix="o2o-pg-")
    executor = PostgreSQLExecutor(
        executable=pg_ctl, host="127.0.0.1", port=port, datadir=datadir,
        unixsocketdir=datadir, logfile=os.path.join(datadir, "log"), startparams="-w",
        dbname="postgres", user="postgres", password="", options="", postgres_options="",
    )
    if os.geteuid() == 0:
        return _run_as_root_cluster(pg_ctl, argv, env, db)
    print(f"with_postgres: starting a throwaway cluster on 127.0.0.1:{port}", file=sys.stderr)
    executor.start()
    try:
        env["DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:{port}/{db}"
        _ensure_db("127.0.0.1", port, db)
        return subprocess.call(argv, env=env)
    finally:
        executor.stop()
        shutil.rmtree(datadir, ignore_errors=True)


def _run_as_root_cluster(pg_ctl: str, argv: list[str], env: dict[str, str], db: str) -> int:
    """initdb refuses root: run the throwaway cluster as the ``postgres`` system user."""
    bindir = os.path.dirname(pg_ctl)
    port = _free_port()
    datadir = tempfile.mkdtemp(prefix="o2o-pg-")
    shutil.chown(datadir, "postgres", "postgres")
    as_pg = ["runuser", "-u", "postgres", "--"]
    print(f"with_postgres: starting a throwaway cluster (as postgres) on 127.0.0.1:{port}", file=sys.stderr)
    subprocess.check_call([*as_pg, os.path.join(bindir, "initdb"), "-D", datadir, "-U", "postgres",
                           "--auth=trust", "-E", "UTF8"], stdout=subprocess.DEVNULL)
    subprocess.check_call([*as_pg, pg_ctl, "start", "-w", "-D", datadir, "-l", os.path.join(datadir, "log"),
                           "-o", f"-F -p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={datadir}"],
                          stdout=subprocess.DEVNULL)
    try:
        env["DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:{port}/{db}"
        _ensure_db("127.0.0.1", port, db)
        return subprocess.call(argv, env=env)
    finally:
        subprocess.call([*as_pg, pg_ctl, "stop", "-m", "fast", "-D", datadir], stdout=subprocess.DEVNULL)
        shutil.rmtree(datadir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
