"""十元捐: the yearly ten-yuan donation campaign of a town, collected per grassroots union."""

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from relief.idcard import mask_id_number, validate_id_number
from relief.models.money import MoneyField

# The campaign runs from 1 April to 30 September unless the town says otherwise.
DEFAULT_START = (4, 1)
DEFAULT_END = (9, 30)


def default_period(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, *DEFAULT_START), dt.date(year, *DEFAULT_END)


class DonationCampaign(models.Model):
    town = models.ForeignKey(
        "unions.Union",
        verbose_name=_("town federation"),
        on_delete=models.PROTECT,
        related_name="donation_campaigns",
        limit_choices_to={"level": "town"},
    )
    year = models.PositiveSmallIntegerField(_("year"))
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("ten-yuan donation campaign")
        verbose_name_plural = _("ten-yuan donation campaigns")
        ordering = ["-year", "town__path"]
        constraints = [
            models.UniqueConstraint(fields=["town", "year"], name="donation_campaign_town_year"),
            models.CheckConstraint(
                name="donation_campaign_dates_in_order", condition=Q(starts_on__lte=F("ends_on"))
            ),
        ]

    def __str__(self):
        return _("%(town)s ten-yuan donations %(year)d") % {"town": self.town, "year": self.year}


class DonationCollection(models.Model):
    """One collection handed in by a grassroots union: it becomes income of the town's 十元捐."""

    campaign = models.ForeignKey(
        DonationCampaign,
        verbose_name=_("campaign"),
        on_delete=models.PROTECT,
        related_name="collections",
    )
    union = models.ForeignKey(
        "unions.Union",
        verbose_name=_("grassroots union"),
        on_delete=models.PROTECT,
        related_name="donation_collections",
        limit_choices_to={"level": "grassroots"},
    )
    collected_on = models.DateField(_("collected on"))
    donor_count = models.PositiveIntegerField(_("number of donors"))
    amount = MoneyField(_("amount"))
    receipt_numbers = models.CharField(_("receipt numbers"), max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("donation collection")
        verbose_name_plural = _("donation collections")
        ordering = ["-collected_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                name="donation_collection_amount_positive", condition=Q(amount__gt=0)
            ),
            models.CheckConstraint(
                name="donation_collection_has_donors", condition=Q(donor_count__gt=0)
            ),
        ]

    def __str__(self):
        return f"{self.union} {self.collected_on:%Y-%m-%d} {self.amount}"


class Donor(models.Model):
    """An individual donor of a collection, when the union lists them."""

    collection = models.ForeignKey(
        DonationCollection,
        verbose_name=_("collection"),
        on_delete=models.PROTECT,
        related_name="donors",
    )
    name = models.CharField(pgettext_lazy("person", "name"), max_length=50)
    id_number = models.CharField(
        _("ID number"), max_length=18, blank=True, validators=[validate_id_number]
    )
    amount = MoneyField(_("amount"))
    receipt_no = models.CharField(_("receipt number"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("donor")
        verbose_name_plural = _("donors")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(name="donor_amount_positive", condition=Q(amount__gt=0)),
        ]

    def __str__(self):
        return f"{self.name} {self.amount}"

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)

    masked_id_number.fget.short_description = _("ID number")
