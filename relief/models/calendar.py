from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class WorkingDayCorrection(models.Model):
    """One day whose status differs from what the calendar package says (relief.workdays).

    chinese-calendar knows each year only once the State Council has announced its holidays
    (usually in November of the year before), and a newer package may not be installed yet: the
    district records the announced holidays and make-up working days (调休) here, and corrects
    a day the package has wrong. A row wins over the package; a day with no row follows it, or
    plain Monday-to-Friday for a year the package does not know.
    """

    day = models.DateField(_("date"), unique=True)
    is_workday = models.BooleanField(
        _("working day"),
        help_text=_(
            "Ticked: people work that day (e.g. a make-up Saturday, 调休). "
            "Not ticked: a holiday or rest day."
        ),
    )
    reason = models.CharField(_("reason"), max_length=60, help_text=_("e.g. 春节, 国庆节调休"))
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    changed_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        verbose_name = _("working-day correction")
        verbose_name_plural = _("working-day calendar")
        ordering = ["-day"]

    def __str__(self):
        return f"{self.day:%Y-%m-%d} {self.reason}"
