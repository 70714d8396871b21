"""Uploaded import files kept between the preview and the confirm, bound to the session.

The preview (a dry run) and the confirm are two requests. The file is kept server-side under a
random file name that only the session knows; the confirm form carries another random key that
is looked up in the session. Nothing the client sends names a file: a key that is unknown, from
another session, for another admin page, already used or expired finds nothing, and the caller
answers with a message. A file is read once and deleted when it is confirmed; files left behind
(previews never confirmed) are deleted once they are older than STAGING_SECONDS.
"""

import contextlib
import os
import secrets
import tempfile
import time
from pathlib import Path

from django.conf import settings

SESSION_KEY = "relief_staged_imports"
STAGING_SECONDS = 60 * 60
# A session keeps its newest few previews; an older one must be uploaded again.
MAX_STAGED_PER_SESSION = 5
_FILE_ID_LENGTH = 64  # hex characters of secrets.token_hex(32)


class StagedImportMissing(Exception):
    """No staged file for this key in this session (unknown, used, expired or vanished).

    `record` is the session's record when the key was known (already confirmed, or its file
    gone): its `digest` lets the confirm page say who imported the file and when.
    """

    def __init__(self, record: dict | None = None):
        super().__init__()
        self.record = record


def staging_dir() -> Path:
    configured = getattr(settings, "IMPORT_STAGING_DIR", None)
    path = Path(configured or Path(tempfile.gettempdir()) / f"relief-imports-{os.getuid()}")
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _path(file_id: str) -> Path:
    # The id comes from our own session data, but check its shape anyway: never a path.
    if len(file_id) != _FILE_ID_LENGTH or any(c not in "0123456789abcdef" for c in file_id):
        raise StagedImportMissing
    return staging_dir() / file_id


def purge_expired(now: float | None = None) -> None:
    """Delete staged files older than STAGING_SECONDS (previews nobody confirmed)."""
    limit = (now or time.time()) - STAGING_SECONDS
    for entry in staging_dir().iterdir():
        try:
            if entry.is_file() and entry.stat().st_mtime < limit:
                entry.unlink()
        except FileNotFoundError:  # another request purged it first
            pass


def stage(request, data: bytes, *, model: str, name: str, resource: int, digest: str = "") -> str:
    """Keep data for this session; return the key the confirm form carries."""
    purge_expired()
    file_id = secrets.token_hex(32)
    fd = os.open(_path(file_id), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    staged = dict(request.session.get(SESSION_KEY) or {})
    while len(staged) >= MAX_STAGED_PER_SESSION:
        oldest = min(staged, key=lambda k: staged[k]["at"])
        _remove(staged.pop(oldest))
    key = secrets.token_urlsafe(32)
    staged[key] = {
        "file": file_id,
        "model": model,
        "name": name,
        "resource": resource,
        "digest": digest,
    }
    staged[key]["at"] = time.time()
    request.session[SESSION_KEY] = staged
    return key


def take(request, key, *, model: str) -> tuple[bytes, dict]:
    """The staged bytes and their record; the file is deleted (one use).

    The record stays in the session, marked taken, so that a confirm sent again (the first
    one's response was lost) is recognised: StagedImportMissing carries it.
    """
    staged = dict(request.session.get(SESSION_KEY) or {})
    record = staged.get(key) if isinstance(key, str) else None
    if record is None or record.get("model") != model:
        raise StagedImportMissing
    if record.get("taken"):
        raise StagedImportMissing(record)
    staged[key] = {**record, "taken": True}
    request.session[SESSION_KEY] = staged
    path = _path(record["file"])
    try:
        if time.time() - record["at"] > STAGING_SECONDS:
            raise StagedImportMissing
        return path.read_bytes(), record
    except FileNotFoundError:
        raise StagedImportMissing(record) from None
    finally:
        path.unlink(missing_ok=True)


def _remove(record: dict) -> None:
    with contextlib.suppress(StagedImportMissing):
        _path(record["file"]).unlink(missing_ok=True)
