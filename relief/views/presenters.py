"""Turning cases and audit entries into what the pages say, in the user's language."""

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import FieldDoesNotExist
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from relief import workflow as wf
from relief.models import Application, ApplicationState, AuditEntry
from relief.models.money import yuan

S = ApplicationState

AMOUNT_LABELS = {
    "requested_amount": gettext_lazy("requested amount"),
    "recommended_amount": gettext_lazy("recommended amount"),
    "approved_amount": gettext_lazy("approved amount"),
    "amount": gettext_lazy("payout"),
    "paid_amount": gettext_lazy("paid amount"),
    # 先行救助 (relief.services.advances)
    "advance": gettext_lazy("advance amount"),
    "advance_amount": gettext_lazy("emergency advance paid"),
    "shortfall": gettext_lazy("shortfall"),
}
# Actions whose change lists are the whole record (shown as amounts only).
WHOLE_RECORD_ACTIONS = {
    "create",
    "home_visit",
    "follow_up",
    "disburse",
    "advance_grant",
    "advance_pay",
    "advance_cancel",
    "advance_settle",
    "advance_shortfall",
}


# The amount a case's card and row show: what the case stands at now, with what it is.
HEADLINE_AMOUNTS = {
    S.RECOMMENDED: ("recommended_amount", gettext_lazy("recommended amount")),
    S.APPROVED: ("approved_amount", gettext_lazy("approved amount")),
    S.DISBURSED: ("paid_amount", gettext_lazy("paid amount")),
    S.CLOSED: ("paid_amount", gettext_lazy("paid amount")),
}


def headline_amount(application: Application) -> tuple[str, Decimal | None]:
    """(label, amount): paid cases show what was paid, approved ones the approved amount, a
    recommended one the town's amount, every other case what was requested."""
    field_name, label = HEADLINE_AMOUNTS.get(
        application.state, ("requested_amount", gettext_lazy("requested amount"))
    )
    return str(label), getattr(application, field_name)


def _state_label(value: str) -> str:
    try:
        return S(value).label
    except ValueError:
        return value


def _money(value) -> str:
    if value in (None, ""):
        return ""
    try:
        return yuan(Decimal(value))
    except (InvalidOperation, TypeError):
        return str(value)


def _is_zero(value) -> bool:
    if value in (None, ""):
        return True
    try:
        return Decimal(value) == 0
    except (InvalidOperation, TypeError):
        return False


def _field_label(name: str) -> str:
    if name == "categories":
        return str(Application._meta.get_field("categories").verbose_name)
    try:
        return str(Application._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name


@dataclass
class TimelineRow:
    entry: AuditEntry
    label: str
    actor: str
    actor_union: str
    from_state: str = ""
    to_state: str = ""
    amounts: list = field(default_factory=list)  # (label, old text, new text)
    fields: list = field(default_factory=list)  # labels of other changed fields
    attachment: str = ""
    # Why an amount is above the request (recommend, approve).
    amount_reason: str = ""

    @property
    def at(self):
        return self.entry.at

    @property
    def comment(self):
        return self.entry.comment

    @property
    def action(self):
        return self.entry.action


def timeline_rows(entries) -> list[TimelineRow]:
    """Who did what when, with the state change, comment and amounts of each entry."""
    rows = []
    for entry in entries:
        changes = entry.changes or {}
        row = TimelineRow(
            entry=entry,
            label=str(wf.TRANSITION_LABELS.get(entry.action, entry.action)),
            actor=entry.actor.get_full_name(),
            actor_union=entry.actor.union.name if entry.actor.union_id else "",
            from_state=_state_label(entry.from_state) if entry.from_state else "",
            to_state=_state_label(entry.to_state) if entry.to_state else "",
        )
        for key, label in AMOUNT_LABELS.items():
            if key in changes:
                old, new = changes[key]
                if _is_zero(new) and _is_zero(old):
                    continue  # e.g. "paid 0.00" on a new case
                row.amounts.append((str(label), _money(old), _money(new)))
        if "amount_reason" in changes:
            row.amount_reason = changes["amount_reason"][1] or ""
        if entry.action == "attach" and "attachment" in changes:
            row.attachment = changes["attachment"][1] or ""
        elif entry.action not in WHOLE_RECORD_ACTIONS:
            row.fields = [
                _field_label(k)
                for k in changes
                if k not in AMOUNT_LABELS
                and k not in ("attachment", "amount_reason")
                and not k.endswith("_at")
            ]
        rows.append(row)
    return rows


def last_comment(rows: list[TimelineRow], action: str | tuple) -> TimelineRow | None:
    actions = (action,) if isinstance(action, str) else action
    for row in reversed(rows):
        if row.action in actions:
            return row
    return None


def _date(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "tzinfo"):
        value = timezone.localtime(value)
    return formats.date_format(value, "Y-m-d")


def state_summary(application: Application) -> str:
    """The current state in a sentence: where the case is and what happens next."""
    town = application.union.parent.name if application.union.parent_id else ""
    state = application.state
    if state == S.DRAFT:
        return _("Not sent yet. Check the facts, then submit it to %(town)s.") % {"town": town}
    if state == S.SUBMITTED:
        return _("Sent to %(town)s on %(date)s; awaiting their review and home visit.") % {
            "town": town,
            "date": _date(application.submitted_at),
        }
    if state == S.RETURNED:
        return _("%(town)s returned the case for more information: correct it and resubmit.") % {
            "town": town
        }
    if state == S.VERIFIED:
        return _("%(town)s has verified the facts; their recommended amount comes next.") % {
            "town": town
        }
    if state == S.RECOMMENDED:
        return _("%(town)s recommends %(amount)s; awaiting the district's approval.") % {
            "town": town,
            "amount": _money(application.recommended_amount),
        }
    if state == S.APPROVED:
        return _("The district approved %(amount)s; awaiting payment.") % {
            "amount": _money(application.approved_amount)
        }
    if state == S.DISBURSED:
        return _("%(amount)s has been paid; the town follows up with the worker.") % {
            "amount": _money(application.paid_amount)
        }
    if state == S.CLOSED:
        return _("%(amount)s was paid and followed up; the case is closed.") % {
            "amount": _money(application.paid_amount)
        }
    if state == S.REJECTED:
        return _("Not granted (%(date)s).") % {"date": _date(application.rejected_at)}
    if state == S.WITHDRAWN:
        return _("Withdrawn on %(date)s.") % {"date": _date(application.withdrawn_at)}
    return application.get_state_display()


@dataclass(frozen=True)
class MissingItem:
    label: str
    message: str
    url: str


def missing_items(application: Application, form_url: str = "") -> list[MissingItem]:
    """What a draft still lacks before it can be submitted, each linking to its field on the
    form at `form_url` (the same page when empty)."""
    from relief.services.applications import missing_for_submit

    return [
        MissingItem(
            label=_field_label(name).capitalize(),
            message=str(message),
            # The categories are check boxes: the first one takes the focus.
            url=f"{form_url}#id_{name}{'_0' if name == 'categories' else ''}",
        )
        for name, message in missing_for_submit(application).items()
    ]
