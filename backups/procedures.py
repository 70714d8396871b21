"""Back up, restore, verify: the three procedures behind the management commands.

- create_backup: the database (one consistent snapshot) and MEDIA_ROOT into a new archive
  folder, with a manifest of what they held; the archive is read back and checked before it
  gets its final name, so a folder named relief-YYYYMMDD-HHMMSS is always complete.
- restore_backup: into an empty database and an empty media folder only; then everything is
  measured again and compared with the manifest.
- verify_archive: the archive alone (hashes, and what can be read without a server);
  test_restore: a full restore into a throwaway database, compared, then dropped.
"""

import hashlib
import importlib.metadata
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connections
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone
from django.utils.translation import gettext as _

from backups import postgres, sqlite
from backups.archive import (
    DUMP_FILES,
    FORMAT,
    MEDIA,
    archives_in,
    check_files,
    compare_database,
    compare_media,
    dump_path,
    private_files,
    read_manifest,
    write_manifest,
)
from backups.databases import Database
from backups.errors import BackupError, VerificationFailed
from backups.stats import CHUNK, database_stats, file_hash, media_files


@dataclass
class Outcome:
    path: Path
    manifest: dict
    notes: list[str] = field(default_factory=list)


# Backup ------------------------------------------------------------------------------------


def create_backup(
    *, folder: Path, media_root: Path | None, alias: str = "default", bucket: str = ""
) -> Outcome:
    """media_root None: attachments and reports are in an S3 bucket (config/storage.py,
    named by `bucket`), which this backup does not copy: the bucket's own versioning and
    replication keep them (README); the manifest says so and restore leaves them alone."""
    folder = Path(folder).resolve()
    media_root = Path(media_root).resolve() if media_root is not None else None
    if media_root is not None and folder.is_relative_to(media_root):
        raise BackupError(
            _("Do not keep backups inside MEDIA_ROOT (%(media)s): choose another folder.")
            % {"media": media_root}
        )
    connection = connections[alias]
    vendor = "sqlite" if connection.vendor == "sqlite" else connection.vendor
    if vendor not in DUMP_FILES:
        raise BackupError(_("Backups support SQLite and PostgreSQL only."))
    created = timezone.localtime()
    with private_files():
        folder.mkdir(parents=True, exist_ok=True)
        name = _free_name(folder, f"relief-{created:%Y%m%d-%H%M%S}")
        work = folder / f"{name}.partial"
        work.mkdir()
        try:
            dump_file = work / DUMP_FILES[vendor]
            if vendor == "sqlite":
                connection.ensure_connection()
                info, stats = sqlite.dump(connection.connection, dump_file)
            else:
                source = Database.from_settings(connection.settings_dict)
                info, stats = postgres.dump(source, dump_file)
            attachments = stats.pop("attachment_files")
            if media_root is None:
                (work / MEDIA).mkdir()
                files, missing = {}, []
                media = {"storage": bucket, "files": files, "missing": missing}
            else:
                files = _copy_media(media_root, work / MEDIA)
                missing = [name for name in attachments if name not in files]
                media = {"root": str(media_root), "files": files, "missing": missing}
            info["dump"] = {
                "file": dump_file.name,
                "sha256": file_hash(dump_file),
                "bytes": dump_file.stat().st_size,
            }
            manifest = {
                "format": FORMAT,
                "created_at": created.isoformat(),
                "app": app_version(),
                "database": info,
                **stats,
                "attachment_files": attachments,
                "media": media,
            }
            write_manifest(work, manifest)
            problems = check_files(work, manifest)
            if problems:
                raise VerificationFailed(_("The backup just written does not read back."), problems)
            final = folder / name
            work.rename(final)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
    notes = [
        _("Attachment %(name)s is recorded in the database but its file is missing.")
        % {"name": name}
        for name in missing
    ]
    if media_root is None:
        notes.append(_bucket_note(bucket))
    return Outcome(final, manifest, notes)


def _bucket_note(bucket: str) -> str:
    return _(
        "Attachments and reports are in the object storage %(bucket)s and are not in this "
        "backup: the bucket's versioning and replication keep them (see the README)."
    ) % {"bucket": bucket}


def _free_name(folder: Path, base: str) -> str:
    name, n = base, 1
    while (folder / name).exists() or (folder / f"{name}.partial").exists():
        n += 1
        name = f"{base}-{n}"
    return name


def _copy_media(source: Path, dest: Path) -> dict[str, dict]:
    """Copy every regular file, hashing what is written; returns the manifest's file list."""
    dest.mkdir()
    files = {}
    if not source.is_dir():
        return files
    for path in sorted(source.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        relative = path.relative_to(source).as_posix()
        target = dest / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        with open(path, "rb") as src, open(target, "wb") as out:
            while chunk := src.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
        files[relative] = {"sha256": digest.hexdigest(), "bytes": size}
    return files


def prune(folder: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` complete archives in `folder`; return the deleted."""
    old = archives_in(Path(folder))[:-keep] if keep else []
    for path in old:
        shutil.rmtree(path)
    return old


def app_version() -> dict:
    try:
        version = importlib.metadata.version("union-relief")
    except importlib.metadata.PackageNotFoundError:
        version = None
    git = shutil.which("git")
    if not git:
        return {"version": version, "commit": None}
    try:
        commit = subprocess.run(  # noqa: S603 - fixed arguments, no shell
            [git, "rev-parse", "HEAD"],
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return {"version": version, "commit": commit or None}


# Verify ------------------------------------------------------------------------------------


def verify_archive(archive: Path) -> Outcome:
    """Check an archive without a database server: hashes, and the dump's content when it can
    be read directly (SQLite) or its table of contents (PostgreSQL)."""
    archive = Path(archive)
    manifest = read_manifest(archive)
    problems = check_files(archive, manifest)
    dump = dump_path(archive, manifest)
    if not problems:
        if manifest["database"]["vendor"] == "sqlite":
            found = sqlite.stats_of(dump)
            problems += compare_database(manifest, found)
        else:
            problems += postgres.readable(dump, manifest)
    if problems:
        raise VerificationFailed(_("The backup %(path)s is damaged.") % {"path": archive}, problems)
    return Outcome(archive, manifest)


def test_restore(archive: Path, *, server: Database) -> Outcome:
    """Restore into a throwaway database and media folder, compare, remove them again."""
    archive = Path(archive)
    manifest = read_manifest(archive)
    with tempfile.TemporaryDirectory(prefix="relief-restore-test-") as scratch:
        media = Path(scratch) / "media"
        if manifest["database"]["vendor"] == "sqlite":
            target = Database(vendor="sqlite", name=str(Path(scratch) / "restored.sqlite3"))
            return restore_backup(archive=archive, target=target, media_root=media)
        if server.vendor != "postgresql":
            raise BackupError(
                _("A PostgreSQL backup is test-restored on a PostgreSQL server: set DATABASE_URL.")
            )
        name = f"relief_restore_test_{uuid.uuid4().hex[:12]}"
        target = postgres.create_database(server, name)
        try:
            return restore_backup(archive=archive, target=target, media_root=media)
        finally:
            postgres.drop_database(server, name)


# Restore -----------------------------------------------------------------------------------


def restore_backup(*, archive: Path, target: Database, media_root: Path) -> Outcome:
    archive, media_root = Path(archive), Path(media_root)
    manifest = read_manifest(archive)
    vendor = manifest["database"]["vendor"]
    if vendor != target.vendor:
        raise BackupError(
            _("This is a %(made)s backup; it restores only into %(made)s, not into %(target)s.")
            % {"made": _vendor_name(vendor), "target": _vendor_name(target.vendor)}
        )
    problems = check_files(archive, manifest)
    if problems:
        raise VerificationFailed(
            _("The backup %(path)s is damaged; nothing was restored.") % {"path": archive},
            problems,
        )
    # A backup taken with attachments in a bucket holds the database only (create_backup).
    bucket = manifest["media"].get("storage")
    _refuse_unless_empty(target, None if bucket else media_root)
    dump = dump_path(archive, manifest)
    with private_files():
        if vendor == "sqlite":
            sqlite.restore(dump, target)
        else:
            postgres.restore(dump, target, manifest)
        if not bucket:
            _restore_media(archive / MEDIA, media_root)
    conn = target.connect()
    try:
        found = database_stats(conn, target.vendor)
    finally:
        conn.close()
    problems = compare_database(manifest, found)
    if not bucket:
        problems += compare_media(manifest["media"]["files"], media_files(media_root))
    if problems:
        raise VerificationFailed(
            _("The restored data differ from the backup: do not use %(db)s.")
            % {"db": target.label},
            problems,
        )
    notes = migration_notes(manifest["migrations"])
    if bucket:
        notes.append(_bucket_note(bucket))
    return Outcome(archive, manifest, notes)


def _vendor_name(vendor: str) -> str:
    return {"sqlite": "SQLite", "postgresql": "PostgreSQL"}.get(vendor, vendor)


def _refuse_unless_empty(target: Database, media_root: Path | None) -> None:
    held = target.objects()
    if held["tables"] or held["others"]:
        if target.vendor == "sqlite":
            how = _("give a new file name (the file must not exist yet)")
        else:
            how = _(
                "create a new database with “createdb NAME” and point --database-url or "
                "DATABASE_URL at it, without running migrate first"
            )
        raise BackupError(
            _(
                "%(db)s is not empty (%(tables)d tables, %(others)d other objects): a restore "
                "writes only into an empty database, so nothing was changed. To restore, "
                "%(how)s."
            )
            % {
                "db": target.label,
                "tables": held["tables"],
                "others": held["others"],
                "how": how,
            }
        )
    if media_root is None:
        return
    if media_root.exists() and (not media_root.is_dir() or any(media_root.iterdir())):
        raise BackupError(
            _(
                "The media folder %(path)s is not empty: a restore writes attachments only into "
                "an empty or new folder, so nothing was changed. Move its contents away or give "
                "another folder with --media-root (and set MEDIA_ROOT to it)."
            )
            % {"path": media_root}
        )


def _restore_media(source: Path, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.rglob("*")):
        if path.is_file() and not path.is_symlink():
            target = dest / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)


def migration_notes(backed_up: list[str]) -> list[str]:
    """What the code's migrations say about the restored schema."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    on_disk = {f"{app}.{name}" for app, name in loader.disk_migrations}
    newer = sorted(set(backed_up) - on_disk)
    pending = sorted(on_disk - set(backed_up))
    notes = []
    if newer:
        notes.append(
            _(
                "The backup has migrations this code does not know (%(names)s): it was made by "
                "a newer version; run that version's code on it."
            )
            % {"names": ", ".join(newer[:5])}
        )
    if pending:
        notes.append(
            _(
                "This code has %(count)d migrations the backup does not have: run “manage.py "
                "migrate” before starting the application."
            )
            % {"count": len(pending)}
        )
    return notes
