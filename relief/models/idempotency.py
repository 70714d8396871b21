from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _


class IdempotencyKey(models.Model):
    """A money form's one-time key (issue 12): the first submission records what it made; a
    second one with the same key (a retry after a lost response, a double click) finds it here
    and writes nothing. The key row is inserted in the same transaction as the payout, so the
    unique constraint also stops two simultaneous submissions: the second waits for the first
    and then finds its result."""

    key = models.CharField(_("key"), max_length=64)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT, related_name="+"
    )
    content_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [
            models.UniqueConstraint(fields=["key"], name="relief_idempotency_key_unique")
        ]

    def __str__(self):
        return self.key

    def made(self):
        """What the first submission made (a payout, a batch, an income entry), or None."""
        if self.content_type_id is None or self.object_id is None:
            return None
        model = self.content_type.model_class()
        return model._base_manager.filter(pk=self.object_id).first()
