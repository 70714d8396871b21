import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from relief.models.money import MoneyField


class HomeVisit(models.Model):
    """入户核实: the town's verification visit; a case is verified only with one on file."""

    application = models.ForeignKey(
        "relief.Application",
        verbose_name=_("application"),
        on_delete=models.PROTECT,
        related_name="home_visits",
    )
    visit_date = models.DateField(_("visit date"))
    visitors = models.CharField(_("visitors"), max_length=200)
    findings = models.TextField(_("findings"))
    verified_household_income = MoneyField(
        _("verified household monthly income"), validators=[MinValueValidator(0)]
    )
    verified_monthly_expenses = MoneyField(
        _("verified monthly expenses"), validators=[MinValueValidator(0)]
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("home visit")
        verbose_name_plural = _("home visits")
        ordering = ["visit_date", "pk"]
        constraints = [
            models.CheckConstraint(
                name="home_visit_amounts_not_negative",
                condition=models.Q(
                    verified_household_income__gte=0, verified_monthly_expenses__gte=0
                ),
            ),
        ]

    def __str__(self):
        return f"{self.visit_date:%Y-%m-%d} {self.visitors}"


class FollowUpMethod(models.TextChoices):
    PHONE = "phone", _("By phone")
    VISIT = "visit", _("Visit")


class FollowUp(models.Model):
    """回访 after payment; a paid case closes only after one."""

    application = models.ForeignKey(
        "relief.Application",
        verbose_name=_("application"),
        on_delete=models.PROTECT,
        related_name="follow_ups",
    )
    follow_up_date = models.DateField(_("date"))
    method = models.CharField(_("method"), max_length=10, choices=FollowUpMethod.choices)
    findings = models.TextField(_("findings"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["follow_up_date", "pk"]

    def __str__(self):
        return f"{self.follow_up_date:%Y-%m-%d} {self.get_method_display()}"


class AttachmentKind(models.TextChoices):
    DIAGNOSIS = "diagnosis", _("Diagnosis")
    BILL = "bill", _("Hospital bill")
    PHOTO = "photo", _("Photo")
    OTHER = "other", _("Other")


def attachment_path(instance, filename: str) -> str:
    # Random names: the original name (often containing the person's name) stays in the row.
    suffix = PurePosixPath(filename).suffix.lower()[:10]
    return f"attachments/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{suffix}"


class Attachment(models.Model):
    """A file attached to a case (or to one of its home visits).

    Stored under MEDIA_ROOT, which no URL serves: downloads go through a view that checks
    the user's scope.
    """

    application = models.ForeignKey(
        "relief.Application",
        verbose_name=_("application"),
        on_delete=models.PROTECT,
        related_name="attachments",
    )
    home_visit = models.ForeignKey(
        HomeVisit,
        verbose_name=_("home visit"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="attachments",
    )
    kind = models.CharField(
        _("kind"), max_length=20, choices=AttachmentKind.choices, default=AttachmentKind.OTHER
    )
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["uploaded_at", "pk"]

    def __str__(self):
        return self.original_name
