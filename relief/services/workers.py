"""Worker records and their households; one record per ID number across the system."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from relief import workflow as wf
from relief.errors import NotAllowed, OutOfScope
from relief.idcard import normalize_id_number
from relief.models import HouseholdMember, Worker
from relief.services.audit import audit, diff, snapshot
from unions.models import Role
from unions.selectors import scope_q

WORKER_FIELDS = (
    "name",
    "id_number",
    "phone",
    "employer",
    "address",
    "hukou",
    "health",
    "realname_verified",
    "bank_name",
    "bank_branch",
    "bank_card",
    "notes",
)
MEMBER_FIELDS = (
    "relation",
    "name",
    "id_number",
    "birth_date",
    "age",
    "health",
    "occupation",
    "monthly_income",
)
# Personal data is recorded in the trail as "changed", not with its values.
SENSITIVE = {"id_number", "bank_card", "health"}


def _redact(changes: dict) -> dict:
    return {k: (["***", "***"] if k in SENSITIVE else v) for k, v in changes.items()}


def _clean_values(data: dict) -> dict:
    cleaned = {k: (v.strip() if isinstance(v, str) else v) for k, v in data.items()}
    if "id_number" in cleaned:
        cleaned["id_number"] = normalize_id_number(cleaned["id_number"])
    if "bank_card" in cleaned:
        cleaned["bank_card"] = cleaned["bank_card"].replace(" ", "")
    return cleaned


@transaction.atomic
def worker_create(*, user, data: dict, household: list[dict] = (), source: str = "web") -> Worker:
    """A new worker at the caseworker's grassroots union, with their household."""
    if not user.is_active or user.role != Role.CASEWORKER or user.union is None:
        raise NotAllowed(_("Only caseworkers of a grassroots union record workers."))
    unknown = set(data) - set(WORKER_FIELDS)
    if unknown:
        raise TypeError(f"worker_create: unknown fields {sorted(unknown)}")
    worker = Worker(union=user.union, **_clean_values(data))
    worker.full_clean()
    try:
        with transaction.atomic():
            worker.save()
    except IntegrityError:
        raise ValidationError(
            {"id_number": _("A worker with this ID number is already on file.")}
        ) from None
    audit(
        actor=user,
        action="create",
        worker=worker,
        changes=_redact(diff({}, snapshot(worker, WORKER_FIELDS))),
        source=source,
    )
    if household:
        _replace_members(worker, user, household, source)
    return worker


def workers_editable_by(user):
    """Workers held by a union in scope, or with a case in progress filed in scope."""
    return Worker.objects.filter(
        scope_q(user, "union")
        | Q(
            applications__state__in=wf.IN_PROGRESS,
            applications__in=_applications_in_scope(user),
        )
    ).distinct()


def _applications_in_scope(user):
    from relief.models import Application

    return Application.objects.filter(scope_q(user, "union")).values("pk")


def _lock_worker(worker: Worker, user) -> Worker:
    if not user.is_active or not user.role:
        raise NotAllowed(_("Your account has no role."))
    if not workers_editable_by(user).filter(pk=worker.pk).exists():
        raise OutOfScope
    return Worker.objects.select_for_update().get(pk=worker.pk)


@transaction.atomic
def worker_update(*, worker: Worker, user, data: dict, source: str = "web") -> Worker:
    locked = _lock_worker(worker, user)
    unknown = set(data) - set(WORKER_FIELDS)
    if unknown:
        raise TypeError(f"worker_update: unknown fields {sorted(unknown)}")
    before = snapshot(locked, WORKER_FIELDS)
    for name, value in _clean_values(data).items():
        setattr(locked, name, value)
    locked.full_clean()
    changes = diff(before, snapshot(locked, WORKER_FIELDS))
    if changes:
        try:
            with transaction.atomic():
                locked.save()
        except IntegrityError:
            raise ValidationError(
                {"id_number": _("A worker with this ID number is already on file.")}
            ) from None
        audit(actor=user, action="update", worker=locked, changes=_redact(changes), source=source)
    return locked


@transaction.atomic
def household_replace(
    *, worker: Worker, user, members: list[dict], source: str = "web"
) -> list[HouseholdMember]:
    """Make the household exactly `members` (the form's rows), auditing what changed."""
    locked = _lock_worker(worker, user)
    return _replace_members(locked, user, members, source)


def _member_text(member: HouseholdMember) -> str:
    return f"{member.relation} {member.name} {member.monthly_income:.2f}"


def _replace_members(worker: Worker, user, members: list[dict], source: str):
    built, errors = [], []
    for index, row in enumerate(members):
        unknown = set(row) - set(MEMBER_FIELDS)
        if unknown:
            raise TypeError(f"household member: unknown fields {sorted(unknown)}")
        member = HouseholdMember(worker=worker, added_by=user, **_clean_values(row))
        try:
            member.full_clean(exclude=["worker"])
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                label = (
                    HouseholdMember._meta.get_field(field).verbose_name
                    if field in (MEMBER_FIELDS)
                    else field
                )
                errors.extend(
                    _("Household member %(n)d, %(field)s: %(message)s")
                    % {"n": index + 1, "field": label, "message": m}
                    for m in messages
                )
        built.append(member)
    if errors:
        raise ValidationError({"household": errors})
    old = sorted(_member_text(m) for m in worker.household.all())
    worker.household.all().delete()
    HouseholdMember.objects.bulk_create(built)
    new = sorted(_member_text(m) for m in built)
    if old != new:
        audit(
            actor=user,
            action="update",
            worker=worker,
            changes={"household": ["; ".join(old), "; ".join(new)]},
            source=source,
        )
    return list(worker.household.all())
