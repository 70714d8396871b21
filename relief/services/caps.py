"""Policy caps: per payout, per worker per calendar year, one payout per category per year."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.utils.translation import gettext as _

from relief import workflow as wf
from relief.models import Application
from relief.models.money import clean_amount, yuan


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
    others = Application.objects.filter(
        worker_id=application.worker_id,
        application_date__year=application.year,
        state__in=wf.COMMITTED,
    ).exclude(pk=application.pk)
    if policy.max_per_worker_year is not None:
        already = others.aggregate(total=Sum("approved_amount"))["total"] or Decimal("0")
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
