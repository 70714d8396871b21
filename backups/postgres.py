"""PostgreSQL: pg_dump --format=custom out of one snapshot, pg_restore into an empty database.

The manifest's counts and money are read inside the same snapshot that pg_dump dumps: a
REPEATABLE READ transaction exports it (pg_export_snapshot) and stays open while
`pg_dump --snapshot` runs, so the figures describe exactly the dumped data even while the
application goes on writing.

The database's guards (append-only audit, payouts, fund income and access log; the payout
checks) are triggers, and pg_restore creates triggers, foreign keys and indexes only after all
rows are loaded (the dump's post-data section): the rows come back as they were, without the
insert checks firing again, and the guards are on afterwards (the manifest lists them and the
restore checks they are back and enabled). --single-transaction makes a failed restore leave
nothing behind; --no-owner/--no-privileges let another role restore it.
"""

import subprocess
from pathlib import Path

from django.utils.translation import gettext as _

from backups.databases import Database, first_line, major_of, pg_program
from backups.errors import BackupError
from backups.stats import database_stats

TIMEOUT = 6 * 3600  # seconds; a hung pg_dump must not block the next night's backup forever


def server_major(conn) -> int:
    return major_of(conn.execute("SHOW server_version_num").fetchone()[0])


def dump(source: Database, dest: Path) -> tuple[dict, dict]:
    """Dump `source` into `dest`; return (database info, stats of exactly what was dumped)."""
    import psycopg

    try:
        conn = source.connect()
    except psycopg.OperationalError as exc:
        raise BackupError(
            _("Cannot connect to %(db)s (%(error)s).")
            % {"db": source.label, "error": first_line(exc)}
        ) from None
    try:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        major = server_major(conn)
        program, client_major = pg_program("pg_dump", major)
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        version = conn.execute("SHOW server_version").fetchone()[0]
        stats = database_stats(conn, "postgresql")
        run(
            [
                program,
                "--format=custom",
                "--no-password",
                f"--snapshot={snapshot}",
                f"--file={dest}",
                f"--dbname={source.conninfo()}",
            ],
            source,
            what="pg_dump",
        )
    finally:
        conn.rollback()
        conn.close()
    info = {
        "vendor": "postgresql",
        "server_version": version,
        "client_major": client_major,
        "name": source.name,
    }
    return info, stats


def restore(archive_dump: Path, target: Database, manifest: dict) -> None:
    import psycopg

    try:
        with target.connect() as conn:
            major = server_major(conn)
    except psycopg.OperationalError as exc:
        raise BackupError(
            _("Cannot connect to %(db)s (%(error)s).")
            % {"db": target.label, "error": first_line(exc)}
        ) from None
    program, client_major = pg_program("pg_restore", major)
    made_by = manifest["database"].get("client_major", 0)
    if client_major < made_by:
        raise BackupError(
            _(
                "This backup was made by pg_dump %(made)d; pg_restore %(have)d cannot read it: "
                "install postgresql-client-%(made)d."
            )
            % {"made": made_by, "have": client_major}
        )
    run(
        [
            program,
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            "--no-password",
            f"--dbname={target.conninfo()}",
            str(archive_dump),
        ],
        target,
        what="pg_restore",
    )


def readable(archive_dump: Path, manifest: dict) -> list[str]:
    """pg_restore --list: the archive's table of contents can be read (a cheap check)."""
    major = manifest["database"].get("client_major") or 0
    try:
        program, _major = pg_program("pg_restore", major)
    except BackupError as exc:
        return [str(exc)]
    done = subprocess.run(  # noqa: S603 - pg_restore, fixed arguments, no shell
        [program, "--list", str(archive_dump)], capture_output=True, text=True, timeout=600
    )
    if done.returncode != 0:
        return [
            _("pg_restore cannot read the dump: %(error)s") % {"error": done.stderr.strip()[:500]}
        ]
    return []


def run(command: list[str], database: Database, *, what: str) -> None:
    try:
        done = subprocess.run(  # noqa: S603 - pg_dump/pg_restore, arguments built here, no shell
            command, env=database.tool_env(), capture_output=True, text=True, timeout=TIMEOUT
        )
    except subprocess.TimeoutExpired:
        raise BackupError(_("%(program)s did not finish in time.") % {"program": what}) from None
    if done.returncode != 0:
        raise BackupError(
            _("%(program)s failed for %(db)s: %(error)s")
            % {"program": what, "db": database.label, "error": done.stderr.strip()[:2000]}
        )


def create_database(server: Database, name: str) -> Database:
    """A new empty database on the same server (for a test restore)."""
    import psycopg
    from psycopg import sql

    try:
        with psycopg.connect(
            server.conninfo(), password=server.password or None, autocommit=True
        ) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as exc:
        raise BackupError(
            _("Cannot create the throwaway database %(name)s on %(db)s (%(error)s).")
            % {"name": name, "db": server.label, "error": first_line(exc)}
        ) from None
    return server.with_name(name)


def drop_database(server: Database, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(
        server.conninfo(), password=server.password or None, autocommit=True
    ) as conn:
        drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
        conn.execute(drop.format(sql.Identifier(name)))
