from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from relief.idcard import mask_card


class ProposalStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting the town's confirmation")
    CONFIRMED = "confirmed", _("Confirmed by the town")
    DECLINED = "declined", _("Not taken up by the town")


class ProposedChange(models.Model):
    """A new phone or payout account a caseworker recorded with a case for a worker whose
    record another union holds.

    The caseworker may not change that record (it decides where the worker's money goes), so
    what they learnt on the visit waits here; the town reviewer who verifies the case confirms
    or declines it (relief.services.proposals). Confirmed, it becomes the case's payout account,
    and the worker's record too when the reviewer's scope holds the worker's union.
    """

    application = models.OneToOneField(
        "relief.Application",
        verbose_name=_("application"),
        on_delete=models.CASCADE,
        related_name="proposed_change",
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    bank_name = models.CharField(_("bank"), max_length=50, blank=True)
    bank_branch = models.CharField(_("branch"), max_length=100, blank=True)
    bank_card = models.CharField(_("card number"), max_length=30, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ProposalStatus.choices, default=ProposalStatus.PENDING
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("proposed by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    proposed_at = models.DateTimeField(_("proposed at"), auto_now=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("proposed change")
        verbose_name_plural = _("proposed changes")

    def __str__(self):
        return f"{self.application_id} {self.status}"

    @property
    def masked_card(self) -> str:
        return mask_card(self.bank_card)

    masked_card.fget.short_description = _("card number")

    def summary(self) -> str:
        """What was proposed, the card masked: "电话 139…; 建设银行 大沥支行 **** 3456"."""
        parts = []
        if self.phone:
            parts.append(gettext("phone %(phone)s") % {"phone": self.phone})
        if self.bank_card:
            parts.append(
                " ".join(p for p in (self.bank_name, self.bank_branch, self.masked_card) if p)
            )
        return "; ".join(parts)

    @property
    def has_account(self) -> bool:
        return bool(self.bank_card)

    @property
    def is_empty(self) -> bool:
        return not (self.phone or self.bank_name or self.bank_branch or self.bank_card)
