"""Who may see full numbers, and the one function that writes the access log.

The masking rule itself is relief.idcard (mask_id_number, mask_card, mask_name); this module
decides who gets the unmasked value and records every time someone does.
"""

import ipaddress

from django.conf import settings

from relief.idcard import mask_name
from unions.models import Role

# What a full number is shown for.
ID_NUMBER = "id_number"  # ID numbers on admin pages and in exports
CARD = "card"  # card numbers on the admin worker page (revealed on request, logged)
BANK_FILE = "bank_file"  # the bank transfer file: the only file with full card numbers

FULL_NUMBERS_PERMISSION = "relief.view_full_id_number"

USER_AGENT_MAX = 200
PATH_MAX = 300


def may_see_full(user, what: str = ID_NUMBER) -> bool:
    """THE rule for full numbers, used by every page, export and file.

    ID and card numbers: the permission “can see full ID and card numbers” (the district
    officers' group has it; an administrator may grant it to another group). The bank file:
    also the permission, and only for district officers, who make the transfers.
    """
    if what not in (ID_NUMBER, CARD, BANK_FILE):
        raise ValueError(f"unknown kind of full number: {what!r}")
    if not (user is not None and getattr(user, "is_authenticated", False) and user.is_active):
        return False
    if not user.has_perm(FULL_NUMBERS_PERMISSION):
        return False
    if what == BANK_FILE:
        return user.role == Role.DISTRICT_OFFICER
    return True


def client_ip(request) -> str | None:
    """The client's address; X-Forwarded-For counts only behind our own proxy.

    Behind the proxy (settings.BEHIND_HTTPS_PROXY), the proxy appends the address it saw to
    X-Forwarded-For, so the last entry is the one we can trust: anything before it was sent
    by the client and may be forged. Without a proxy the header is ignored altogether.
    """
    candidates = []
    if getattr(settings, "BEHIND_HTTPS_PROXY", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if hops:
            candidates.append(hops[-1])
    candidates.append(request.META.get("REMOTE_ADDR", ""))
    for value in candidates:
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            continue
    return None


def describe(obj) -> tuple[str, str]:
    """(masked label, case or batch reference) of an object whose personal data was seen."""
    label = obj._meta.label_lower
    if label == "relief.worker":
        return f"{mask_name(obj.name)} {obj.masked_id_number}", ""
    if label == "relief.application":
        return f"{obj.reference} {mask_name(obj.worker.name)}", obj.reference
    if label == "relief.attachment":
        reference = obj.application.reference
        return f"{reference} {obj.get_kind_display()}", reference
    if label == "relief.paymentbatch":
        return obj.reference, obj.reference
    if label == "relief.reviewmeeting":
        return f"{obj.town.name} {obj.meeting_date:%Y-%m-%d} 研讨会", ""
    return str(obj)[:200], ""


def record(request, kind: str, *, obj=None, user=None, detail: str = "", reference: str = ""):
    """Write one access-log row: who (the request's user unless `user`), what kind, which
    object (masked label), and from where (IP, path without query string, user agent).

    `request` may be None for work done outside a request (then `user` is required). Call it
    before the data leaves, inside the same transaction if there is one: no row, no data.
    """
    from django.contrib.contenttypes.models import ContentType

    from privacy.models import AccessKind, AccessLog

    if kind not in AccessKind.values:
        raise ValueError(f"unknown access kind: {kind!r}")
    user = user if user is not None else request.user
    entry = AccessLog(user=user, kind=kind, detail=detail, reference=reference[:40])
    if obj is not None:
        entry.content_type = ContentType.objects.get_for_model(obj, for_concrete_model=False)
        entry.object_id = obj.pk
        entry.object_label, obj_reference = describe(obj)
        entry.reference = (reference or obj_reference)[:40]
    if request is not None:
        entry.ip = client_ip(request)
        entry.path = request.path[:PATH_MAX]
        entry.user_agent = request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX]
    entry.save()
    return entry
