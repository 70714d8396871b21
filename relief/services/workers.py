"""Worker records and their households; one record per ID number across the system."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from relief.errors import NotAllowed, OutOfScope
from relief.idcard import mask_card, mask_id_number, normalize_id_number
from relief.models import HouseholdMember, Worker
from relief.phones import clean_phone_number
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
# Numbers go into the trail masked (enough to tell old from new), health as "changed" only.
MASKED = {"id_number": mask_id_number, "bank_card": mask_card}
HIDDEN = {"health"}


def _redact(changes: dict) -> dict:
    redacted = {}
    for field, (old, new) in changes.items():
        if field in MASKED:
            mask = MASKED[field]
            redacted[field] = [mask(old or ""), mask(new or "")]
        elif field in HIDDEN:
            redacted[field] = ["***" if old else "", "***" if new else ""]
        else:
            redacted[field] = [old, new]
    return redacted


def _clean_values(data: dict) -> dict:
    cleaned = {k: (v.strip() if isinstance(v, str) else v) for k, v in data.items()}
    if "id_number" in cleaned:
        cleaned["id_number"] = normalize_id_number(cleaned["id_number"])
    if "bank_card" in cleaned:
        cleaned["bank_card"] = cleaned["bank_card"].replace(" ", "")
    if "phone" in cleaned:
        try:
            cleaned["phone"] = clean_phone_number(cleaned["phone"] or "")
        except ValidationError as exc:
            raise ValidationError({"phone": exc.messages}) from None
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
    """Workers whose record this user may change: those held by a union in the user's scope.

    The holding union's chain (its caseworkers, its town, the district) and no one else: a
    worker's record says where their money goes, so filing a case for a worker held elsewhere
    gives no hold on the record (what that caseworker learns goes into a ProposedChange).
    """
    return Worker.objects.filter(scope_q(user, "union"))


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
    number = f" {mask_id_number(member.id_number)}" if member.id_number else ""
    return f"{member.relation} {member.name}{number} {member.monthly_income:.2f}"


def _replace_members(worker: Worker, user, members: list[dict], source: str):
    built, errors = [], []
    # Forms show a member's stored ID number masked and leave its input empty; a row naming
    # the member it continues ("keep_id_of", this worker's members only) keeps that number.
    stored_ids = dict(worker.household.values_list("pk", "id_number"))
    for index, row in enumerate(members):
        row = dict(row)
        keep = row.pop("keep_id_of", None)
        unknown = set(row) - set(MEMBER_FIELDS)
        if unknown:
            raise TypeError(f"household member: unknown fields {sorted(unknown)}")
        if not row.get("id_number") and keep in stored_ids:
            row["id_number"] = stored_ids[keep]
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


@transaction.atomic
def worker_transfer(*, worker: Worker, user, to_union, reason: str, source: str = "web") -> Worker:
    """Move a worker's record to another grassroots union (they changed job or home).

    Given away by the chain that holds the record (the town of its union, or the district);
    a union that wants a worker cannot take them, or it could take the record's bank card.
    """
    from unions.models import Level

    if not user.is_active or user.role not in (Role.TOWN_REVIEWER, Role.DISTRICT_OFFICER):
        raise NotAllowed(_("Only town federations and the district move a worker's record."))
    locked = _lock_worker(worker, user)
    reason = (reason or "").strip()
    errors = {}
    if to_union is None or to_union.level != Level.GRASSROOTS:
        errors["to_union"] = _("Choose a grassroots union.")
    elif to_union.pk == locked.union_id:
        errors["to_union"] = _("The record is already held by this union.")
    if not reason:
        errors["reason"] = _("This field is required.")
    if errors:
        raise ValidationError(errors)
    before = locked.union
    locked.union = to_union
    locked.save(update_fields=["union", "updated_at"])
    audit(
        actor=user,
        action="transfer",
        worker=locked,
        comment=reason,
        changes={"union": [before.name, to_union.name]},
        source=source,
    )
    return locked
