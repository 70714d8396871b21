from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from relief.models.money import MoneyField


class ReviewMeeting(models.Model):
    """研讨会: a town's meeting on the cases before it, with a decision per case discussed.

    Written only by relief.services.meetings.review_meeting_record, which applies every
    decision through the lifecycle services in the same transaction as this row.
    """

    town = models.ForeignKey(
        "unions.Union",
        verbose_name=_("town federation"),
        on_delete=models.PROTECT,
        related_name="review_meetings",
        limit_choices_to={"level": "town"},
    )
    meeting_date = models.DateField(_("meeting date"))
    # Optional: the minutes print it only when it was recorded.
    place = models.CharField(_("meeting place"), max_length=200, blank=True)
    attendees = models.CharField(_("attendees"), max_length=300)
    minutes = models.TextField(_("minutes"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("review meeting")
        verbose_name_plural = _("review meetings")
        ordering = ["-meeting_date", "-pk"]

    def __str__(self):
        return f"{self.town} {self.meeting_date:%Y-%m-%d}"


class Decision(models.TextChoices):
    RECOMMEND = "recommend", _("Recommend with amount")
    RETURN = "return", _("Return with comment")
    REJECT = "reject", _("Reject with reason")


class ReviewDecision(models.Model):
    meeting = models.ForeignKey(
        ReviewMeeting,
        verbose_name=_("review meeting"),
        on_delete=models.PROTECT,
        related_name="decisions",
    )
    application = models.ForeignKey(
        "relief.Application",
        verbose_name=_("application"),
        on_delete=models.PROTECT,
        related_name="review_decisions",
    )
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices)
    amount = MoneyField(_("recommended amount"), null=True, blank=True)
    comment = models.TextField(_("comment or reason"))

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "application"], name="review_decision_once_per_meeting"
            ),
            models.CheckConstraint(
                name="review_decision_amount_iff_recommend",
                condition=(Q(decision="recommend", amount__gt=0))
                | (~Q(decision="recommend") & Q(amount__isnull=True)),
            ),
        ]

    def __str__(self):
        return f"{self.application} {self.get_decision_display()}"
