from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class QueueSeen(models.Model):
    """When a user last marked their union's decisions as seen (relief.queues).

    A caseworker's 待办 lists the cases of their union approved, rejected or paid after this
    moment; "mark as seen" moves it to the moment the page they read was made, so a decision
    taken while they were reading is not lost.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="queue_seen",
    )
    decisions_seen_at = models.DateTimeField(_("decisions seen up to"))

    class Meta:
        verbose_name = _("to-do marker")
        verbose_name_plural = _("to-do markers")
        default_permissions = ()

    def __str__(self):
        return f"{self.user} {self.decisions_seen_at:%Y-%m-%d %H:%M}"
