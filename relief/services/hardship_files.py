"""Closing a worker's hardship file (no longer in difficulty) and reopening it later.

Towns do it for workers of their unions; each move and its reason is in the audit trail.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from relief import workflow as wf
from relief.errors import NotAllowed, OutOfScope
from relief.models import HardshipFile, Worker
from relief.services.audit import audit
from unions.models import Role
from unions.selectors import scope_q


def file_is_open(worker: Worker) -> bool:
    file = HardshipFile.objects.filter(worker=worker).first()
    return file is None or file.is_open


def _lock(worker: Worker, user, reason: str) -> tuple[Worker, str]:
    if not user.role:
        raise NotAllowed(_("Your account has no role."))
    locked = Worker.objects.select_for_update().filter(scope_q(user, "union"), pk=worker.pk).first()
    if locked is None:
        raise OutOfScope
    if user.role != Role.TOWN_REVIEWER:
        raise NotAllowed(_("Town federations close and reopen hardship files."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason.")})
    return locked, reason


def _set(worker, user, reason, *, is_open: bool) -> HardshipFile:
    file, _created = HardshipFile.objects.update_or_create(
        worker=worker, defaults={"is_open": is_open, "changed_by": user, "reason": reason}
    )
    return file


@transaction.atomic
def hardship_file_close(*, worker: Worker, user, reason: str, source: str = "web"):
    locked, reason = _lock(worker, user, reason)
    if not file_is_open(locked):
        raise ValidationError(_("This hardship file is already closed."))
    if locked.applications.filter(state__in=wf.IN_PROGRESS).exists():
        raise ValidationError(
            _("The worker has a case in progress: finish it before closing the file.")
        )
    file = _set(locked, user, reason, is_open=False)
    audit(
        actor=user,
        action="file_close",
        worker=locked,
        comment=reason,
        changes={"hardship_file": ["open", "closed"]},
        source=source,
    )
    return file


@transaction.atomic
def hardship_file_reopen(*, worker: Worker, user, reason: str, source: str = "web"):
    locked, reason = _lock(worker, user, reason)
    if file_is_open(locked):
        raise ValidationError(_("This hardship file is open."))
    file = _set(locked, user, reason, is_open=True)
    audit(
        actor=user,
        action="file_reopen",
        worker=locked,
        comment=reason,
        changes={"hardship_file": ["closed", "open"]},
        source=source,
    )
    return file
