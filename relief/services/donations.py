"""十元捐: a town's yearly campaign and the collections its grassroots unions hand in.

Each collection becomes income of the town's ten-yuan donation account for the campaign's year,
in the same transaction.
"""

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from relief.errors import NotAllowed, OutOfScope
from relief.idcard import normalize_id_number
from relief.models import DonationCampaign, DonationCollection, Donor, FundSource
from relief.models.donations import default_period
from relief.models.money import clean_amount, yuan
from relief.services.audit import audit, site_language
from relief.services.funds import add_income, check_year
from unions.models import Level, Role
from unions.selectors import union_in_scope

CAMPAIGN_ROLES = {Role.TOWN_REVIEWER, Role.DISTRICT_OFFICER}


def _check_town_user(user, town) -> None:
    if not user.role:
        raise NotAllowed(_("Your account has no role."))
    if town is None or town.level != Level.TOWN:
        raise ValidationError({"town": _("Choose a town federation.")})
    if not union_in_scope(user, town):
        raise OutOfScope
    if Role(user.role) not in CAMPAIGN_ROLES:
        raise NotAllowed(_("Only town and district federations run the donation campaign."))


@transaction.atomic
def donation_campaign_create(
    *,
    user,
    town,
    year: int,
    starts_on: dt.date | None = None,
    ends_on: dt.date | None = None,
    source: str = "web",
) -> DonationCampaign:
    """A town's campaign for a year, 1 April to 30 September unless dates are given."""
    _check_town_user(user, town)
    check_year(year)
    default_start, default_end = default_period(year)
    campaign = DonationCampaign(
        town=town,
        year=year,
        starts_on=starts_on or default_start,
        ends_on=ends_on or default_end,
        created_by=user,
    )
    if campaign.starts_on > campaign.ends_on:
        raise ValidationError({"ends_on": _("The campaign cannot end before it starts.")})
    if campaign.starts_on.year != year:
        raise ValidationError({"starts_on": _("The campaign starts in its own year.")})
    try:
        with transaction.atomic():
            campaign.save()
    except IntegrityError:
        raise ValidationError(
            {
                "year": _("%(town)s already has a campaign for %(year)d.")
                % {"town": town, "year": year}
            }
        ) from None
    with site_language():
        comment = str(campaign)  # "西樵镇总工会 十元捐 2026"
    audit(
        actor=user,
        action="donation_campaign",
        comment=comment,
        changes={"period": [None, f"{campaign.starts_on} – {campaign.ends_on}"]},
        source=source,
    )
    return campaign


@transaction.atomic
def donation_collection_record(
    *,
    user,
    campaign: DonationCampaign,
    union,
    collected_on: dt.date,
    donor_count: int,
    amount: Decimal,
    receipt_numbers: str = "",
    donors: list[dict] = (),
    source: str = "web",
) -> DonationCollection:
    """A grassroots union's collection; its money becomes the town's 十元捐 income."""
    campaign = DonationCampaign.objects.select_related("town").get(pk=campaign.pk)
    _check_town_user(user, campaign.town)
    if union is None or union.level != Level.GRASSROOTS or union.parent_id != campaign.town_id:
        raise ValidationError(
            {"union": _("Choose a grassroots union of %(town)s.") % {"town": campaign.town}}
        )
    clean_amount(amount)
    if collected_on is None or not campaign.starts_on <= collected_on <= campaign.ends_on:
        raise ValidationError(
            {
                "collected_on": _("The campaign runs from %(start)s to %(end)s.")
                % {"start": campaign.starts_on, "end": campaign.ends_on}
            }
        )
    if not isinstance(donor_count, int) or donor_count < 1:
        raise ValidationError({"donor_count": _("Enter the number of donors (at least one).")})
    built, errors = [], []
    for n, row in enumerate(donors, start=1):
        donor = Donor(
            name=(row.get("name") or "").strip(),
            id_number=normalize_id_number(row.get("id_number") or ""),
            amount=row.get("amount"),
            receipt_no=(row.get("receipt_no") or "").strip(),
        )
        try:
            donor.full_clean(exclude=["collection"])
            clean_amount(donor.amount)
        except ValidationError as exc:
            errors.extend(
                _("Donor %(n)d: %(message)s") % {"n": n, "message": m} for m in exc.messages
            )
        built.append(donor)
    if errors:
        raise ValidationError({"donors": errors})
    if len(built) > donor_count:
        raise ValidationError(
            {"donor_count": _("%(n)d donors are listed by name.") % {"n": len(built)}}
        )
    listed = sum((d.amount for d in built), Decimal("0"))
    if listed > amount:
        raise ValidationError(
            {
                "amount": _("The donors listed gave %(listed)s, more than the %(amount)s recorded.")
                % {"listed": yuan(listed), "amount": yuan(amount)}
            }
        )
    collection = DonationCollection(
        campaign=campaign,
        union=union,
        collected_on=collected_on,
        donor_count=donor_count,
        amount=amount,
        receipt_numbers=(receipt_numbers or "").strip(),
        recorded_by=user,
    )
    collection.full_clean()
    collection.save()
    for donor in built:
        donor.collection = collection
    Donor.objects.bulk_create(built)
    add_income(
        user=user,
        town=campaign.town,
        source=FundSource.DONATION,
        year=campaign.year,
        amount=amount,
        received_on=collected_on,
        note=f"{union.name} {receipt_numbers}".strip()[:200],
        collection=collection,
    )
    with site_language():
        comment = f"{campaign} · {union.name}"
    audit(
        actor=user,
        action="donation",
        comment=comment,
        changes={
            "amount": [None, f"{amount:.2f}"],
            "donor_count": [None, str(donor_count)],
            "receipt_numbers": [None, collection.receipt_numbers],
        },
        source=source,
    )
    return collection
