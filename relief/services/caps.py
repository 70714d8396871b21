"""Policy caps: per payout, per worker per calendar year, one payout per category per year."""

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Q, Sum
from django.db.models.functions import Coalesce, Greatest
from django.utils.translation import gettext as _

from relief import workflow as wf
from relief.models import Application
from relief.models.money import MoneyField, clean_amount, to_cents, yuan


def _others_committed(application: Application):
    """The worker's other cases of the same year that count against the caps: approved, paid
    or closed ones, and ended ones on which money was paid all the same (an emergency advance
    on a case then rejected or withdrawn)."""
    return Application.objects.filter(
        Q(state__in=wf.COMMITTED) | Q(paid_amount__gt=0),
        worker_id=application.worker_id,
        application_date__year=application.year,
    ).exclude(pk=application.pk)


def _already(others) -> Decimal:
    """What those cases give the worker: the approved amount, or the money paid where an
    advance paid more than was approved (or anything at all on a rejected case)."""
    total = others.aggregate(
        total=Sum(
            Greatest(
                Coalesce("approved_amount", Decimal("0"), output_field=MoneyField("")),
                "paid_amount",
                output_field=MoneyField(""),
            )
        )
    )["total"]
    return to_cents(total)


@dataclass(frozen=True)
class AmountContext:
    """What a reviewer deciding an amount needs beside the input (recommend and approve)."""

    requested: Decimal | None
    recommended: Decimal | None
    per_payout: Decimal
    per_worker_year: Decimal | None
    # Approved for this worker this year on other cases (approved, paid or closed).
    already_this_year: Decimal
    policy: str
    year: int

    @property
    def most(self) -> Decimal:
        """The largest amount the caps still allow on this case."""
        if self.per_worker_year is None:
            return self.per_payout
        return max(
            Decimal("0"), min(self.per_payout, self.per_worker_year - self.already_this_year)
        )


def amount_context(application: Application) -> AmountContext:
    policy = application.policy
    already = _already(_others_committed(application))
    return AmountContext(
        requested=application.requested_amount,
        recommended=application.recommended_amount,
        per_payout=policy.max_per_payout,
        per_worker_year=policy.max_per_worker_year,
        already_this_year=already or Decimal("0"),
        policy=str(policy),
        year=application.year,
    )


def check_reason_above_request(
    application: Application, amount: Decimal, reason: str, *, field: str = "amount_reason"
) -> dict:
    """An amount above what the caseworker asked for needs a reason; it goes into the trail
    ({field: [None, reason]} for the audit entry's changes)."""
    reason = (reason or "").strip()
    requested = application.requested_amount
    if requested is not None and amount > requested and not reason:
        raise ValidationError(
            {
                field: _(
                    "%(amount)s is more than the %(requested)s requested: say why (for example "
                    "what the home visit found)."
                )
                % {"amount": yuan(amount), "requested": yuan(requested)}
            }
        )
    return {"amount_reason": [None, reason]} if reason else {}


def check_amount_within_caps(application: Application, amount: Decimal, *, field: str) -> None:
    """Refuse an amount above the policy's caps, naming the cap and the policy."""
    policy = application.policy
    amount = clean_amount(amount, field)
    if amount > policy.max_per_payout:
        raise ValidationError(
            {
                field: _("%(amount)s is above the cap of %(cap)s per payout set by %(policy)s.")
                % {"amount": yuan(amount), "cap": yuan(policy.max_per_payout), "policy": policy}
            }
        )
    others = _others_committed(application)
    if policy.max_per_worker_year is not None:
        already = _already(others)
        if already + amount > policy.max_per_worker_year:
            raise ValidationError(
                {
                    field: _(
                        "With %(amount)s this worker would receive %(total)s in %(year)d, above "
                        "the yearly cap of %(cap)s set by %(policy)s (already approved: "
                        "%(already)s)."
                    )
                    % {
                        "amount": yuan(amount),
                        "total": yuan(already + amount),
                        "year": application.year,
                        "cap": yuan(policy.max_per_worker_year),
                        "policy": policy,
                        "already": yuan(already),
                    }
                }
            )
    if policy.one_per_category_per_year:
        mine = set(application.categories.values_list("pk", flat=True))
        clash = (
            others.filter(categories__pk__in=mine)
            .values_list("categories__name", flat=True)
            .distinct()
        )
        names = sorted(set(clash) & set(application.categories.values_list("name", flat=True)))
        if names:
            raise ValidationError(
                {
                    field: _(
                        "%(policy)s allows one payout per worker per category per year; this "
                        "worker was already helped in %(year)d for: %(categories)s."
                    )
                    % {"policy": policy, "year": application.year, "categories": "、".join(names)}
                }
            )
