"""Database connection: URL choice, engine set-up per dialect, Alembic migrations."""
from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from engine.i18n import _

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
DEFAULT_URL = "sqlite:///almp.db"


def database_url(explicit: str | None = None) -> str:
    """``explicit``, else ``ALMP_DATABASE_URL``, else the SQLite file ``almp.db`` in the working directory."""
    return explicit or os.environ.get("ALMP_DATABASE_URL") or DEFAULT_URL


def _seconds(env: str, default: float) -> float:
    try:
        value = float(os.environ.get(env, default))
    except ValueError:
        return default
    return value if value > 0 else default


def timeouts() -> dict[str, float]:
    """How long the service waits on the database before answering 503 (seconds; each from the environment).

    connect: opening a connection (also a server that accepts and never answers); statement: one
    statement (PostgreSQL ends it server-side) and, through the TCP user timeout, a server gone
    silent mid-statement; pool: waiting for a free pooled connection; lock: SQLite's wait for the
    write lock.
    """
    return {"connect": _seconds("ALMP_DB_CONNECT_TIMEOUT", 5), "statement": _seconds("ALMP_DB_STATEMENT_TIMEOUT", 20),
            "pool": _seconds("ALMP_DB_POOL_TIMEOUT", 10), "lock": _seconds("ALMP_DB_LOCK_TIMEOUT", 20)}


def make_engine(url: str) -> Engine:
    # hide_parameters: a failing statement's error text must not carry the decision's personal facts
    # (SQLAlchemy prints bound parameters in exception messages and logs otherwise).
    limits = timeouts()
    if url.startswith("sqlite"):
        engine = create_engine(url, hide_parameters=True,
                               connect_args={"timeout": limits["lock"], "check_same_thread": False})
        _sqlite_transactions(engine)
        return engine
    connect_args = {}
    if "psycopg" in url or "postgres" in url:
        statement_ms = int(limits["statement"] * 1000)
        connect_args = {"connect_timeout": max(1, round(limits["connect"])),
                        "options": f"-c statement_timeout={statement_ms}",
                        # a server that stops answering mid-statement: the kernel gives up on unacknowledged
                        # data after this long, instead of retransmitting for a quarter of an hour
                        "tcp_user_timeout": statement_ms + 5000,
                        "keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3}
    # pre_ping drops connections that died with a database restart, so the service recovers alone.
    engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10, pool_recycle=1800,
                           pool_timeout=limits["pool"], hide_parameters=True, connect_args=connect_args)
    if engine.dialect.driver == "psycopg":
        _answers_within(engine, limits["statement"] + 5)
    return engine


def _answers_within(engine: Engine, seconds: float) -> None:
    """Every exchange with PostgreSQL (statement, commit, pre-ping) ends within ``seconds``.

    statement_timeout is enforced by the server and the TCP user timeout by the kernel, so neither
    ends a wait on a server whose process hangs while its kernel still acknowledges every packet (a
    stopped or wedged postgres, a proxy that stopped forwarding): the request would wait forever.
    psycopg's own wait takes a timeout; past it the connection is closed (its state is unknown) and
    the error is the driver's OperationalError, which the service answers with 503.
    """
    import psycopg

    class BoundedConnection(psycopg.Connection):
        def wait(self, gen, interval=0.1, timeout=None):
            try:
                return super().wait(gen, interval, seconds if timeout is None else timeout)
            except psycopg.errors._WaitTimeout:
                self.pgconn.finish()
                raise psycopg.OperationalError(f"the database did not answer within {seconds:g} s; "
                                               "connection closed") from None

    @event.listens_for(engine, "do_connect")
    def _connect(_dialect, _record, cargs, cparams):
        return BoundedConnection.connect(*cargs, **cparams)


def _sqlite_transactions(engine: Engine) -> None:
    # pysqlite defers BEGIN until the first write, so two writers could read the same chain head.
    # BEGIN IMMEDIATE takes the write lock at the start of every transaction instead.
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str):
    from alembic.config import Config
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations; safe to call from several processes at once (the migration takes a lock)."""
    from alembic import command
    command.upgrade(alembic_config(url), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def connection_problem(exc: BaseException, explicit_url: str | None = None) -> str | None:
    """One line saying what to do when ``exc`` means the database cannot be reached, else ``None``.

    The driver's own text runs to several lines and, raised from a command, to a long traceback;
    the person starting almp needs the cause and the fix.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import OperationalError

    if not isinstance(exc, OperationalError):
        return None
    if exc.statement is not None and not exc.connection_invalidated:
        return None  # a failing statement on a live connection is not about reaching the database
    detail = " ".join(str(exc.orig).split())
    try:
        url = make_url(database_url(explicit_url))
    except Exception:  # noqa: BLE001 - an unparsable URL fails earlier, with its own message
        return None
    shown = url.render_as_string(hide_password=True)
    if url.get_backend_name() != "postgresql":
        return _("cannot open the database {url}: {detail}", url=shown, detail=detail)
    host, port, user = url.host or "localhost", url.port or 5432, url.username or "postgres"
    if f'database "{url.database}" does not exist' in detail:
        return _('PostgreSQL database "{name}" does not exist on {host}:{port}; create it with '
                 "`createdb -h {host} -p {port} -U {user} {name}` (almp creates the tables)",
                 name=url.database, host=host, port=port, user=user)
    if "Connection refused" in detail or "could not connect" in detail or "timeout expired" in detail:
        return _("cannot reach PostgreSQL at {host}:{port} ({url}): is the server running there?",
                 host=host, port=port, url=shown)
    return _("cannot connect to {url}: {detail}", url=shown, detail=detail)
