"""An import file is written once (issue 12): its key is the file's SHA-256 plus what it is.

The key is SHA-256 over the import kind ("ledger", "workers", "household"), its target (the
table set the rows land in) and the SHA-256 of the file's bytes, so the admin's confirm step
and `manage.py import_ledger` give the same file the same key. It is stored as an
IdempotencyKey in the import's own transaction: importing the same file again (a confirm
re-sent after a lost response, the command run twice, the file uploaded again) writes nothing
and says who first imported it and when; two simultaneous imports of one file meet at the
key's unique constraint. An import that fails (row errors, a conflict, a rollback) takes its
key with it, so the corrected or retried file goes through. `force_reason` (the command's
--force) imports a file deliberately again; the reason goes into the audit trail.
"""

import hashlib
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from relief.conflicts import when_text
from relief.models import IdempotencyKey
from relief.services.audit import audit, site_language

# kind -> target: what the rows of each import write.
TARGETS = {
    "ledger": "relief.Application+relief.Disbursement",
    "workers": "relief.Worker",
    "household": "relief.HouseholdMember",
}


def file_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def import_key(digest: str, kind: str) -> str:
    """64 hex characters; never the shape of a form's key (token_urlsafe, 32 characters)."""
    text = f"import\0{kind}\0{TARGETS[kind]}\0{digest}"
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class EarlierImport:
    who: str
    at: object

    def text(self) -> str:
        return _(
            "This file was already imported by %(who)s at %(when)s; nothing was written this time."
        ) % {"who": self.who, "when": when_text(self.at)}


class AlreadyImported(Exception):
    def __init__(self, earlier: EarlierImport):
        super().__init__(earlier.text())
        self.earlier = earlier


def earlier_import(key: str) -> EarlierImport | None:
    record = IdempotencyKey.objects.filter(key=key).select_related("user").first()
    if record is None:
        return None
    return EarlierImport(
        record.user.get_full_name() or record.user.get_username(), record.created_at
    )


def import_file_once(
    service, *, kind: str, digest: str, user, force_reason: str | None = None, **kwargs
):
    """`service(user=user, **kwargs)` unless this file was imported before.

    A dry run only reports an earlier import (AlreadyImported); a real one stores the key in
    the same transaction as the rows. Raises AlreadyImported; returns the service's result.
    """
    key = import_key(digest, kind)
    forced = force_reason is not None
    if forced and not force_reason.strip():
        raise ValidationError(_("Say why the file is imported again."))
    if kwargs.get("dry_run"):
        earlier = earlier_import(key)
        if earlier is not None and not forced:
            raise AlreadyImported(earlier)
        return service(user=user, **kwargs)

    def claim():
        earlier = earlier_import(key)
        if earlier is not None and not forced:
            raise AlreadyImported(earlier)
        if earlier is None:
            try:
                with transaction.atomic():
                    IdempotencyKey.objects.create(key=key, user=user)
            except IntegrityError:
                # A simultaneous import of this file committed first.
                raise AlreadyImported(earlier_import(key)) from None
        if forced:
            with site_language():
                comment = _("%(file)s imported again: %(reason)s") % {
                    "file": kwargs.get("file_name", ""),
                    "reason": force_reason.strip(),
                }
            audit(
                actor=user,
                action="reimport",
                comment=comment,
                source=f"import:{kwargs.get('file_name', '')}"[:200],
            )

    if getattr(service, "claims_in_its_write", False):
        # The service checks its rows before its write transaction and calls claim() inside
        # it: on SQLite every transaction holds the one write lock from BEGIN (IMMEDIATE), so
        # checking 10,000 rows inside it held off every payout (issue 12, finding 6). An
        # earlier import is looked for first too, so a replay is refused without the checks.
        earlier = earlier_import(key)
        if earlier is not None and not forced:
            raise AlreadyImported(earlier)
        return service(user=user, claim=claim, **kwargs)
    with transaction.atomic():
        claim()
        result = service(user=user, **kwargs)
        if result.errors:
            # Nothing was written; the key goes too, so the corrected file can be imported.
            transaction.set_rollback(True)
        return result
