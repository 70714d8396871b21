"""Home visits, follow-ups and attachments: facts added to a case by the people handling it."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from relief import uploads
from relief.models import Application, Attachment, FollowUp, HomeVisit
from relief.services.audit import audit, diff, snapshot
from relief.services.locking import lock_application

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
# Types are recognised by their first bytes, not by the name or the browser's claim.
SIGNATURES = [
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
]
VISIT_FIELDS = (
    "visit_date",
    "visitors",
    "findings",
    "verified_household_income",
    "verified_monthly_expenses",
)


def sniff_type(head: bytes) -> tuple[str, str] | None:
    """(content type, file suffix) recognised from the first bytes, or None."""
    for magic, content_type, suffix in SIGNATURES:
        if head.startswith(magic):
            return content_type, suffix
    if head[4:8] == b"ftyp" and head[8:12] in {b"heic", b"heix", b"mif1", b"msf1", b"heim"}:
        return "image/heic", ".heic"  # iPhone camera photos
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp", ".webp"
    return None


def _touch(locked: Application, callers_copy: Application, **facts) -> None:
    """New facts on a case make copies loaded before them stale (see lock_application).

    The caller's own copy is brought up to date: they know about the fact they just added.
    `facts` are fields of the case that the new fact changes, saved in the same UPDATE.
    """
    locked.version += 1
    for name, value in facts.items():
        setattr(locked, name, value)
    locked.save(update_fields=["version", "updated_at", *facts])
    callers_copy.version = locked.version
    for name, value in facts.items():
        setattr(callers_copy, name, value)


@transaction.atomic
def home_visit_record(
    *,
    application: Application,
    user,
    visit_date,
    visitors: str,
    findings: str,
    verified_household_income,
    verified_monthly_expenses,
    source: str = "web",
) -> HomeVisit:
    locked = lock_application(application, user, "home_visit")
    visit = HomeVisit(
        application=locked,
        visit_date=visit_date,
        visitors=(visitors or "").strip(),
        findings=(findings or "").strip(),
        verified_household_income=verified_household_income,
        verified_monthly_expenses=verified_monthly_expenses,
        recorded_by=user,
    )
    visit.full_clean()
    visit.save()
    _touch(locked, application)
    audit(
        actor=user,
        action="home_visit",
        application=locked,
        changes=diff({}, snapshot(visit, VISIT_FIELDS)),
        source=source,
    )
    return visit


@transaction.atomic
def follow_up_record(
    *,
    application: Application,
    user,
    follow_up_date,
    method: str,
    findings: str,
    source: str = "web",
) -> FollowUp:
    locked = lock_application(application, user, "follow_up")
    follow_up = FollowUp(
        application=locked,
        follow_up_date=follow_up_date,
        method=method,
        findings=(findings or "").strip(),
        recorded_by=user,
    )
    follow_up.full_clean()
    follow_up.save()
    _touch(locked, application, followed_up=True)
    audit(
        actor=user,
        action="follow_up",
        application=locked,
        changes=diff({}, snapshot(follow_up, ("follow_up_date", "method", "findings"))),
        source=source,
    )
    return follow_up


@transaction.atomic
def attachment_add(
    *,
    application: Application,
    user,
    upload,
    kind: str,
    home_visit: HomeVisit | None = None,
    source: str = "web",
) -> Attachment:
    """Store an uploaded file for a case after checking its real type and its size."""
    locked = lock_application(application, user, "attach")
    if upload.size > MAX_ATTACHMENT_BYTES:
        raise ValidationError({"file": _("%(name)s is larger than 10 MB.") % {"name": upload.name}})
    head = upload.read(16)
    upload.seek(0)
    sniffed = sniff_type(head)
    if sniffed is None:
        raise ValidationError(
            {
                "file": _("%(name)s is not a PDF, JPEG, PNG, HEIC or WebP file.")
                % {"name": upload.name}
            }
        )
    # The first bytes only say what the file claims to be; this decodes or parses it.
    uploads.verify(upload, sniffed[0])
    if home_visit is not None and home_visit.application_id != locked.pk:
        raise ValidationError({"home_visit": _("That home visit belongs to another case.")})
    attachment = Attachment(
        application=locked,
        home_visit=home_visit,
        kind=kind,
        original_name=upload.name[:200],
        content_type=sniffed[0],
        size=upload.size,
        uploaded_by=user,
    )
    # Stored under the suffix of what the file really is, whatever its name claims.
    attachment.file.save(f"upload{sniffed[1]}", upload, save=False)
    try:
        attachment.full_clean()
        attachment.save()
        _touch(locked, application)
        audit(
            actor=user,
            action="attach",
            application=locked,
            changes={"attachment": [None, f"{attachment.original_name} ({attachment.size} B)"]},
            source=source,
        )
    except Exception:
        # Keep disk and database in step when the row cannot be written. (A rollback of an
        # enclosing transaction later would leave an unreferenced file; nothing serves it.)
        attachment.file.storage.delete(attachment.file.name)
        raise
    return attachment


@transaction.atomic
def home_visit_record_with_files(
    *, application: Application, user, uploads=(), source: str = "web", **visit
) -> HomeVisit:
    """A visit and the photos taken on it, in one transaction: all of it or nothing.

    `uploads` are (file, kind) pairs; each goes through attachment_add (type, size, decoding).
    """
    made = home_visit_record(application=application, user=user, source=source, **visit)
    stored = []
    try:
        for upload, kind in uploads:
            stored.append(
                attachment_add(
                    application=application,
                    user=user,
                    upload=upload,
                    kind=kind,
                    home_visit=made,
                    source=source,
                )
            )
    except BaseException:
        # The rows roll back with the transaction; the files they had written go too.
        for attachment in stored:
            attachment.file.storage.delete(attachment.file.name)
        raise
    return made
