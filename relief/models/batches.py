"""拨款批次: approved cases paid together by one bank transfer file, all or none."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from relief.models.disbursement import FundSource
from relief.models.money import MoneyField


class BatchState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    EXPORTED = "exported", _("Bank file exported")
    PAID = "paid", _("Paid")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_BATCH_STATES = (BatchState.DRAFT, BatchState.EXPORTED)


class PaymentBatch(models.Model):
    reference = models.CharField(_("batch number"), max_length=32, unique=True, editable=False)
    title = models.CharField(_("title"), max_length=200)
    fund_source = models.CharField(_("fund source"), max_length=10, choices=FundSource.choices)
    fund_year = models.PositiveSmallIntegerField(_("fund year"))
    # Only relief.services.batches moves it.
    state = models.CharField(
        _("state"),
        max_length=10,
        choices=BatchState.choices,
        default=BatchState.DRAFT,
        editable=False,
    )
    bank_paid_on = models.DateField(_("paid by the bank on"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    exported_at = models.DateTimeField(_("exported at"), null=True, blank=True)
    paid_at = models.DateTimeField(_("marked paid at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("payment batch")
        verbose_name_plural = _("payment batches")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                name="payment_batch_paid_has_date",
                condition=~Q(state="paid") | Q(bank_paid_on__isnull=False),
            ),
        ]

    def __str__(self):
        return f"{self.reference} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_BATCH_STATES


class BatchItem(models.Model):
    batch = models.ForeignKey(
        PaymentBatch, verbose_name=_("batch"), on_delete=models.PROTECT, related_name="items"
    )
    application = models.ForeignKey(
        "relief.Application",
        verbose_name=_("application"),
        on_delete=models.PROTECT,
        related_name="batch_items",
    )
    amount = MoneyField(_("amount"))
    # The payout recorded when the batch was marked paid.
    disbursement = models.OneToOneField(
        "relief.Disbursement",
        verbose_name=_("payout"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="batch_item",
    )

    class Meta:
        verbose_name = _("batch item")
        verbose_name_plural = _("batch items")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "application"], name="batch_item_once"),
            models.CheckConstraint(name="batch_item_amount_positive", condition=Q(amount__gt=0)),
        ]

    def __str__(self):
        return f"{self.batch.reference} {self.application}"
