"""The backup archive: one folder holding the database dump, the media files and a manifest.

    relief-20250301-020000/
        manifest.json        what was backed up: counts, money, hashes, versions, time
        database.dump        pg_dump --format=custom (PostgreSQL), or
        database.sqlite3     a copy made with SQLite's backup API
        media/...            MEDIA_ROOT as it was (attachments, generated reports)

The archive holds every person's data: it is written with mode 0700 (folders) and 0600
(files) whatever the umask, and only the account that wrote it can read it.
"""

import contextlib
import json
import os
import re
from pathlib import Path

from django.utils.translation import gettext as _

from backups.errors import BackupError
from backups.stats import file_hash, media_files

FORMAT = 1
MANIFEST = "manifest.json"
MEDIA = "media"
DUMP_FILES = {"postgresql": "database.dump", "sqlite": "database.sqlite3"}
ARCHIVE_NAME = re.compile(r"^relief-\d{8}-\d{6}(-\d+)?$")


@contextlib.contextmanager
def private_files():
    """Files and folders made inside are readable by their owner only."""
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)


def write_manifest(folder: Path, manifest: dict) -> None:
    path = folder / MANIFEST
    with open(path, "w", encoding="utf-8") as f:
        json.dump(manifest, f, ensure_ascii=False, indent=1, sort_keys=True)
        f.write("\n")
    path.chmod(0o600)


def read_manifest(folder: Path) -> dict:
    path = Path(folder) / MANIFEST
    if not Path(folder).is_dir():
        raise BackupError(
            _("%(path)s is not a backup folder (made by “manage.py backup”).") % {"path": folder}
        )
    try:
        with open(path, encoding="utf-8") as f:
            manifest = json.load(f)
    except FileNotFoundError:
        raise BackupError(
            _("%(path)s has no manifest.json: it is not a complete backup.") % {"path": folder}
        ) from None
    except (OSError, ValueError) as exc:
        raise BackupError(
            _("The manifest %(path)s cannot be read (%(error)s).") % {"path": path, "error": exc}
        ) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(
            _("%(path)s is not a backup manifest this version can read.") % {"path": path}
        )
    return manifest


def dump_path(folder: Path, manifest: dict) -> Path:
    return Path(folder) / manifest["database"]["dump"]["file"]


def check_files(folder: Path, manifest: dict) -> list[str]:
    """Differences between the archive's files and what its manifest says they were."""
    problems = []
    dump = manifest["database"]["dump"]
    path = dump_path(folder, manifest)
    if not path.is_file():
        problems.append(_("The database dump %(file)s is missing.") % {"file": dump["file"]})
    elif file_hash(path) != dump["sha256"]:
        problems.append(
            _("The database dump %(file)s has changed since the backup (SHA-256 differs).")
            % {"file": dump["file"]}
        )
    problems += compare_media(manifest["media"]["files"], media_files(Path(folder) / MEDIA))
    return problems


def compare_media(expected: dict, found: dict, *, where: str = "") -> list[str]:
    problems = []
    for name, entry in expected.items():
        if name not in found:
            problems.append(_("Media file %(name)s is missing.") % {"name": name})
        elif found[name]["sha256"] != entry["sha256"]:
            problems.append(
                _("Media file %(name)s differs from the backup (SHA-256).") % {"name": name}
            )
    for name in sorted(set(found) - set(expected)):
        problems.append(_("Media file %(name)s is not in the backup's manifest.") % {"name": name})
    return problems


def compare_database(expected: dict, found: dict) -> list[str]:
    """Every difference between two database_stats() results, one line each."""
    problems = []
    for section in ("tables", "triggers", "migrations", "money", "attachment_files"):
        problems += _differences(section, expected.get(section), found.get(section))
    return problems


def _differences(where: str, expected, found) -> list[str]:
    if isinstance(expected, dict) and isinstance(found, dict):
        problems = []
        for key in sorted(set(expected) | set(found), key=str):
            problems += _differences(f"{where}.{key}", expected.get(key), found.get(key))
        return problems
    if isinstance(expected, list) and isinstance(found, list):
        missing = [item for item in expected if item not in set(found)]
        extra = [item for item in found if item not in set(expected)]
        problems = [
            _("%(where)s: %(item)s is in the backup but missing here.")
            % {"where": where, "item": item}
            for item in missing
        ]
        problems += [
            _("%(where)s: %(item)s is here but not in the backup.") % {"where": where, "item": item}
            for item in extra
        ]
        return problems
    if expected != found:
        return [
            _("%(where)s: %(expected)s in the backup, %(found)s here.")
            % {"where": where, "expected": _shown(expected), "found": _shown(found)}
        ]
    return []


def _shown(value) -> str:
    return "—" if value is None else str(value)


def archives_in(parent: Path) -> list[Path]:
    """Complete archives (with a manifest) in `parent`, oldest first."""
    if not parent.is_dir():
        return []
    return sorted(
        path
        for path in parent.iterdir()
        if path.is_dir() and ARCHIVE_NAME.match(path.name) and (path / MANIFEST).is_file()
    )
