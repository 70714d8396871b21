"""The database a backup is read from or restored into, reached without Django's connections.

A restore writes into a database Django is not (and must not be) connected to, and the
PostgreSQL tools are separate programs: both need the plain connection parameters, which come
from a DATABASES entry (the running settings) or a DATABASE_URL given on the command line.
"""

import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _

from backups.errors import BackupError
from config.env import parse_database_url

# Django's own OPTIONS for PostgreSQL, which are not libpq connection parameters.
NOT_LIBPQ = {"pool", "isolation_level", "server_side_binding", "assume_role", "cursor_factory"}


@dataclass(frozen=True)
class Database:
    vendor: str  # "postgresql" or "sqlite"
    name: str  # database name, or the SQLite file's path
    host: str = ""
    port: str = ""
    user: str = ""
    password: str = field(default="", repr=False)
    options: tuple = ()  # libpq parameters (sslmode=..., ...)

    @classmethod
    def from_settings(cls, entry: dict) -> "Database":
        engine = entry["ENGINE"]
        if engine.endswith("sqlite3"):
            return cls(vendor="sqlite", name=str(entry["NAME"]))
        if engine.endswith("postgresql"):
            options = tuple(
                sorted(
                    (key, str(value))
                    for key, value in (entry.get("OPTIONS") or {}).items()
                    if key not in NOT_LIBPQ
                )
            )
            return cls(
                vendor="postgresql",
                name=entry["NAME"],
                host=entry.get("HOST") or "",
                port=str(entry.get("PORT") or ""),
                user=entry.get("USER") or "",
                password=entry.get("PASSWORD") or "",
                options=options,
            )
        raise BackupError(
            _("Backups support SQLite and PostgreSQL only, not %(engine)s.") % {"engine": engine}
        )

    @classmethod
    def from_url(cls, url: str) -> "Database":
        try:
            entry = parse_database_url("--database-url", url, base_dir=settings.BASE_DIR)
        except ImproperlyConfigured as exc:
            raise BackupError(str(exc)) from None
        return cls.from_settings(entry)

    def with_name(self, name: str) -> "Database":
        return Database(
            vendor=self.vendor,
            name=name,
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            options=self.options,
        )

    @property
    def label(self) -> str:
        """How messages name it (never with the password)."""
        if self.vendor == "sqlite":
            return self.name
        where = f"{self.host or 'localhost'}:{self.port or 5432}"
        return f"postgres://{self.user + '@' if self.user else ''}{where}/{self.name}"

    # PostgreSQL ------------------------------------------------------------------------

    def conninfo(self) -> str:
        """A libpq connection string without the password (it goes in PGPASSWORD)."""
        from psycopg.conninfo import make_conninfo

        params = {"dbname": self.name, **dict(self.options)}
        for key in ("host", "port", "user"):
            if getattr(self, key):
                params[key] = getattr(self, key)
        return make_conninfo(**params)

    def tool_env(self) -> dict:
        env = dict(os.environ)
        if self.password:
            env["PGPASSWORD"] = self.password
        return env

    def connect(self):
        """A plain DB-API connection (psycopg or sqlite3), not in autocommit."""
        if self.vendor == "sqlite":
            return sqlite3.connect(self.name)
        import psycopg

        return psycopg.connect(self.conninfo(), password=self.password or None)

    # Is it empty? ----------------------------------------------------------------------

    def objects(self) -> dict[str, int]:
        """What the database already holds: tables, and other objects (indexes, sequences,
        views, triggers, functions)."""
        if self.vendor == "sqlite":
            path = Path(self.name)
            if not path.exists() or path.stat().st_size == 0:
                return {"tables": 0, "others": 0}
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
                tables, others = conn.execute(
                    "SELECT COUNT(*) FILTER (WHERE type = 'table'), "
                    "COUNT(*) FILTER (WHERE type <> 'table') "
                    "FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
                ).fetchone()
            conn.close()
            return {"tables": tables, "others": others}
        import psycopg

        try:
            conn = self.connect()
        except psycopg.OperationalError as exc:
            raise BackupError(
                _(
                    "Cannot connect to %(db)s (%(error)s). A restore needs a new, empty "
                    "database: create it first, e.g. “createdb -h HOST -U USER %(name)s”."
                )
                % {"db": self.label, "error": first_line(exc), "name": self.name}
            ) from None
        with conn:
            tables, others = conn.execute(
                "SELECT COUNT(*) FILTER (WHERE c.relkind IN ('r', 'p')), "
                "COUNT(*) FILTER (WHERE c.relkind NOT IN ('r', 'p')) "
                "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') "
                "AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%' "
                "AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')"
            ).fetchone()
            functions = conn.execute(
                "SELECT COUNT(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') "
                "AND n.nspname NOT LIKE 'pg_temp%'"
            ).fetchone()[0]
        return {"tables": tables, "others": others + functions}


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# The PostgreSQL programs -------------------------------------------------------------------

_VERSION = re.compile(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?")


def major_of(version_num: int) -> int:
    """15 for server_version_num 150020 (PostgreSQL 10 and later)."""
    return int(version_num) // 10000


def pg_program(name: str, server_major: int) -> tuple[str, int]:
    """The path and major version of pg_dump / pg_restore able to work with `server_major`.

    Debian keeps each client version in /usr/lib/postgresql/N/bin and /usr/bin/pg_dump picks
    one for you; the server's own version is preferred, else whatever is on PATH, and a client
    older than the server is refused (pg_dump itself refuses, with a less helpful message).
    """
    candidates = [Path(f"/usr/lib/postgresql/{server_major}/bin/{name}")]
    on_path = shutil.which(name)
    if on_path:
        candidates.append(Path(on_path))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            major = program_major(candidate)
            if major >= server_major:
                return str(candidate), major
            raise BackupError(
                _(
                    "%(program)s is version %(client)d but the server runs PostgreSQL "
                    "%(server)d: install postgresql-client-%(server)d (Debian 12’s "
                    "postgresql-client, which make install installs, is version 15)."
                )
                % {"program": candidate, "client": major, "server": server_major}
            )
    raise BackupError(
        _(
            "%(program)s was not found: install the PostgreSQL client programs "
            "(make install does: Debian package postgresql-client; for PostgreSQL %(server)d "
            "postgresql-client-%(server)d)."
        )
        % {"program": name, "server": server_major}
    )


def program_major(path) -> int:
    output = subprocess.run(  # noqa: S603 - a PostgreSQL program, fixed arguments, no shell
        [str(path), "--version"], capture_output=True, text=True, timeout=30, check=False
    ).stdout
    match = _VERSION.search(output)
    if not match:
        raise BackupError(_("Cannot tell the version of %(program)s.") % {"program": path})
    return int(match.group(1))
