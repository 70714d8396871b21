"""Writing the append-only audit trail. Only services call these, inside their transaction."""

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import translation

from relief.models import AuditEntry


def site_language():
    """Words the system writes into the record (audit comments, reasons, findings) are in the
    site's language (settings.LANGUAGE_CODE), whatever the interface language of the person
    whose action they record: the trail, the case page and the printed forms then read the
    same for everyone. Build such a text inside `with site_language():`."""
    return translation.override(settings.LANGUAGE_CODE)


AMOUNT_FIELDS = ("requested_amount", "recommended_amount", "approved_amount", "paid_amount")


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple, set)):
        return ", ".join(sorted(str(v) for v in value))
    return str(value)


def snapshot(instance, fields) -> dict[str, str | None]:
    return {name: _text(getattr(instance, name)) for name in fields}


def diff(before: dict, after: dict) -> dict[str, list]:
    return {k: [before.get(k), after.get(k)] for k in after if before.get(k) != after.get(k)}


def audit(
    *,
    actor,
    action: str,
    application=None,
    worker=None,
    disbursement=None,
    from_state: str = "",
    to_state: str = "",
    comment: str = "",
    changes: dict | None = None,
    source: str = "",
) -> AuditEntry:
    entry = AuditEntry.objects.create(
        actor=actor,
        action=action,
        application=application,
        worker=worker or (application.worker if application is not None else None),
        disbursement=disbursement,
        from_state=from_state,
        to_state=to_state,
        comment=comment,
        changes=changes or {},
        source=source,
    )
    if application is not None and from_state != to_state:
        # Every transition of a case is audited here: the next actors are told after the
        # commit (notifications.hooks; never raises, sends nothing if rolled back).
        from notifications.hooks import transition_recorded

        transition_recorded(entry)
    return entry
