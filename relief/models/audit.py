from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    """Append-only trail: every transition and every field change, whoever made it.

    Only relief.services.audit writes it. On PostgreSQL a trigger (migration 0002) refuses
    UPDATE and DELETE, so not even a bug or a shell session can rewrite history.
    """

    application = models.ForeignKey(
        "relief.Application",
        verbose_name=_("application"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_entries",
    )
    worker = models.ForeignKey(
        "relief.Worker",
        verbose_name=_("worker"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_entries",
    )
    disbursement = models.ForeignKey(
        "relief.Disbursement",
        verbose_name=_("payout"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_entries",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    action = models.CharField(_("action"), max_length=30)
    from_state = models.CharField(_("from state"), max_length=20, blank=True)
    to_state = models.CharField(_("to state"), max_length=20, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    # {"field": [old, new]} with values as strings (Decimal and dates keep their exact text).
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    # Where the change came from: "web", "admin", "import:<file name>", "command", ...
    source = models.CharField(_("source"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit trail")
        ordering = ["at", "pk"]
        default_permissions = ("view",)

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action}"
