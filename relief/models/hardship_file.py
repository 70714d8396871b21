from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class HardshipFile(models.Model):
    """困难职工档案 status: a worker's file is open until the town closes it (no longer in
    difficulty); it can be reopened later. Reasons live in the audit trail, one entry per move.
    A worker without a row has an open file."""

    worker = models.OneToOneField(
        "relief.Worker",
        verbose_name=_("worker"),
        on_delete=models.PROTECT,
        related_name="hardship_file",
    )
    is_open = models.BooleanField(_("open"), default=True)
    changed_at = models.DateTimeField(_("changed at"), auto_now=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.TextField(_("latest reason"))

    class Meta:
        verbose_name = _("hardship file")
        verbose_name_plural = _("hardship files")
        ordering = ["worker__name"]

    def __str__(self):
        return str(self.worker)
