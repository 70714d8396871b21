"""The access log (查阅记录): who saw a full number, downloaded an attachment or a full export,
or printed a document about people.

Append-only: rows are added by privacy.access.record and never changed or deleted, neither
through the ORM (save of an existing row, delete, QuerySet.update/delete raise) nor, on
PostgreSQL, by any SQL (a trigger refuses UPDATE and DELETE; migration 0001).
"""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AppendOnlyError(Exception):
    """The access log is never changed or deleted."""


class AccessKind(models.TextChoices):
    FULL_ID = "full_id", _("Full ID number viewed")
    FULL_CARD = "full_card", _("Full card number viewed")
    ATTACHMENT = "attachment", _("Attachment downloaded")
    FULL_EXPORT = "full_export", _("Export with full ID numbers")
    BANK_FILE = "bank_file", _("Bank file downloaded")
    # A printed document naming people (approval form, worker statement, meeting minutes,
    # payment list), masked as each document says; full card numbers go under BANK_FILE.
    DOCUMENT = "document", _("Document printed")


class AccessLogQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("the access log is append-only")

    def delete(self):
        raise AppendOnlyError("the access log is append-only")


class AccessLog(models.Model):
    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True, editable=False)
    # PROTECT: a user who looked at personal data cannot be deleted (deactivate them instead).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=AccessKind.choices)
    # Which object: its type and key, and a label that is always masked (梁*明 440605****1996).
    content_type = models.ForeignKey(
        ContentType,
        verbose_name=_("object type"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    object_id = models.PositiveBigIntegerField(_("object id"), null=True, blank=True)
    object_label = models.CharField(_("object"), max_length=200, blank=True)
    # The case or batch reference, for searching the log (never an ID number).
    reference = models.CharField(_("reference"), max_length=40, blank=True, db_index=True)
    detail = models.TextField(_("detail"), blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    # The path only: query strings may carry an ID number.
    path = models.CharField(_("path"), max_length=300, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=200, blank=True)

    objects = AccessLogQuerySet.as_manager()

    class Meta:
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        ordering = ["-at", "-pk"]
        default_permissions = ("view",)
        indexes = [models.Index(fields=["kind", "at"], name="privacy_log_kind_at")]

    def __str__(self):
        return f"{self.user} {self.get_kind_display()} {self.object_label}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("the access log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("the access log is append-only")
