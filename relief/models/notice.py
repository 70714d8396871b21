"""Public notices (公示) of recommended cases, and the objections (异议) received against them.

Written only by relief.services.notices. A notice is not a state of the case: it is a record
that district approval consults (relief.services.notices.check_notice_before_approval), so the
transition table stays as it is. A notice covers one recommendation of each of its cases (the
audit entry of that recommendation): a case returned and recommended again needs a new notice.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from relief.idcard import mask_name
from relief.models.money import MoneyField


class PublicNotice(models.Model):
    town = models.ForeignKey(
        "unions.Union",
        verbose_name=_("town federation"),
        on_delete=models.PROTECT,
        related_name="public_notices",
        limit_choices_to={"level": "town"},
    )
    year = models.PositiveSmallIntegerField(_("year"))
    seq = models.PositiveIntegerField(_("number in the year"))
    posted_at = models.CharField(
        _("posted at"),
        max_length=200,
        help_text=_("e.g. the notice boards of the grassroots unions, the town's WeChat account"),
    )
    starts_on = models.DateField(_("notice from"))
    workdays = models.PositiveSmallIntegerField(_("notice period (working days)"))
    ends_on = models.DateField(_("notice until"))
    phone = models.CharField(_("complaint phone"), max_length=30, blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("opened by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    opened_at = models.DateTimeField(_("opened at"), auto_now_add=True)

    class Meta:
        verbose_name = _("public notice")
        verbose_name_plural = _("public notices")
        ordering = ["-starts_on", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["town", "year", "seq"], name="notice_number_once"),
            models.CheckConstraint(
                name="notice_ends_after_start", condition=Q(ends_on__gte=models.F("starts_on"))
            ),
            models.CheckConstraint(name="notice_workdays_positive", condition=Q(workdays__gt=0)),
        ]

    def __str__(self):
        return self.number

    @property
    def number(self) -> str:
        """公示编号, e.g. XQ-GS-2026-003 (per town and year)."""
        return f"{self.town.code}-GS-{self.year}-{self.seq:03d}"

    def has_ended(self, today) -> bool:
        return today > self.ends_on


class NoticeItem(models.Model):
    """One case on a notice, with the recommendation (audit entry) and amount it shows."""

    notice = models.ForeignKey(
        PublicNotice,
        verbose_name=_("public notice"),
        on_delete=models.PROTECT,
        related_name="items",
    )
    application = models.ForeignKey(
        "relief.Application",
        verbose_name=_("application"),
        on_delete=models.PROTECT,
        related_name="notice_items",
    )
    recommendation = models.ForeignKey(
        "relief.AuditEntry",
        verbose_name=_("recommendation"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    amount = MoneyField(_("recommended amount"))

    class Meta:
        verbose_name = _("case on the notice")
        verbose_name_plural = _("cases on the notice")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["notice", "application"], name="notice_item_once"),
            # One notice per recommendation: a case cannot be put on a second notice until it
            # is recommended again.
            models.UniqueConstraint(
                fields=["recommendation"], name="notice_item_per_recommendation"
            ),
            models.CheckConstraint(name="notice_item_amount_positive", condition=Q(amount__gt=0)),
        ]

    def __str__(self):
        return f"{self.notice} · {self.application}"


class ObjectionChannel(models.TextChoices):
    PHONE = "phone", _("Phone")
    VISIT = "visit", _("In person")
    LETTER = "letter", _("Letter")
    OTHER = "other", _("Other")


class ObjectionOutcome(models.TextChoices):
    DISMISSED = "dismissed", _("Dismissed: the case goes on")
    RETURNED = "returned", _("Upheld: case returned for re-verification")
    REJECTED = "rejected", _("Upheld: case rejected")


class Objection(models.Model):
    """异议: recorded against a case on a notice. Seen by the town and the district only."""

    item = models.ForeignKey(
        NoticeItem,
        verbose_name=_("case on the notice"),
        on_delete=models.PROTECT,
        related_name="objections",
    )
    received_on = models.DateField(_("date received"))
    channel = models.CharField(_("received by"), max_length=10, choices=ObjectionChannel.choices)
    content = models.TextField(_("what was said"))
    # Only if the objector gave it; shown to the town and the district, masked in lists.
    objector_name = models.CharField(_("objector's name"), max_length=50, blank=True)
    objector_contact = models.CharField(_("objector's contact"), max_length=50, blank=True)
    handler = models.CharField(_("handled by"), max_length=50)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    finding = models.TextField(_("finding"), blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=10, choices=ObjectionOutcome.choices, blank=True
    )
    resolved_on = models.DateField(_("resolved on"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )

    class Meta:
        verbose_name = _("objection")
        verbose_name_plural = _("objections")
        ordering = ["-received_on", "-pk"]
        constraints = [
            # Resolved means: an outcome, a finding and the date, all together.
            models.CheckConstraint(
                name="objection_resolved_whole",
                condition=(Q(outcome="") & Q(resolved_on__isnull=True))
                | (~Q(outcome="") & Q(resolved_on__isnull=False) & ~Q(finding="")),
            ),
        ]

    def __str__(self):
        return f"{self.item.application} {self.received_on:%Y-%m-%d}"

    @property
    def is_resolved(self) -> bool:
        return bool(self.outcome)

    @property
    def masked_objector(self) -> str:
        return mask_name(self.objector_name)
