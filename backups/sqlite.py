"""SQLite: copies made with SQLite's online backup API, never by copying the file.

A file copy of a database in WAL mode can miss committed pages still in the -wal file, or
catch a write half-done; the backup API copies a consistent snapshot while the application
keeps running. The copy is switched to the rollback journal so that reading it later (verify,
restore) never creates -wal/-shm files inside the archive.
"""

import os
import sqlite3
from pathlib import Path

from django.utils.translation import gettext as _

from backups.databases import Database
from backups.errors import BackupError
from backups.stats import database_stats


def dump(raw_connection, dest: Path) -> tuple[dict, dict]:
    """Copy the database of Django's sqlite3 connection into `dest`; stats of the copy."""
    copy = sqlite3.connect(dest)
    try:
        raw_connection.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")
        stats = database_stats(copy, "sqlite")
    finally:
        copy.close()
    info = {"vendor": "sqlite", "server_version": sqlite3.sqlite_version}
    return info, stats


def open_read_only(path: Path) -> sqlite3.Connection:
    # immutable: nothing (no journal, no lock file) is written next to an archived copy.
    return sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)


def stats_of(path: Path) -> dict:
    conn = open_read_only(path)
    try:
        return database_stats(conn, "sqlite")
    except sqlite3.DatabaseError as exc:
        raise BackupError(
            _("The SQLite copy %(path)s cannot be read: %(error)s") % {"path": path, "error": exc}
        ) from None
    finally:
        conn.close()


def restore(archive_dump: Path, target: Database) -> None:
    """Write the archived copy to the target file (which is absent or empty), all or nothing."""
    path = Path(target.name)
    if not path.parent.is_dir():
        raise BackupError(
            _("The folder of %(path)s does not exist: create it first.") % {"path": path}
        )
    partial = path.with_name(path.name + ".restoring")
    source = open_read_only(archive_dump)
    try:
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy)
            # The application runs SQLite in WAL mode (config.env.sqlite_options).
            copy.execute("PRAGMA journal_mode=WAL")
        finally:
            copy.close()
    except sqlite3.DatabaseError as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(
            _("The SQLite copy cannot be restored: %(error)s") % {"error": exc}
        ) from None
    finally:
        source.close()
    # An empty target may still have the journal files of an empty database: an old -wal
    # beside the new file would be replayed into it.
    for suffix in ("-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    for suffix in ("-wal", "-shm"):
        Path(f"{partial}{suffix}").unlink(missing_ok=True)
    os.replace(partial, path)
    path.chmod(0o600)
