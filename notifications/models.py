"""In-app notifications, the group robots of the unions, and the background deliveries.

A Notification is one line in one user's list. A Delivery is one message sent outside the
system (a group robot's webhook, an e-mail), tried in the background until it succeeds or
NOTIFY_MAX_ATTEMPTS tries have failed (notifications.tasks).
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    RESUBMITTED = "resubmitted", _("Resubmitted")
    VERIFIED = "verified", _("Verified")
    SENT_BACK = "sent_back", _("Sent back to the town")
    RETURNED = "returned", _("Returned")
    RECOMMENDED = "recommended", _("Recommended")
    REJECTED = "rejected", _("Rejected")
    APPROVED = "approved", _("Approved")
    PAID = "paid", _("Paid")
    PAYMENT_REVERSED = "payment_reversed", _("Payout returned")
    CLOSED = "closed", _("Closed")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    DIGEST = "digest", _("Daily overdue digest")


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    # Empty for the daily digest, which is about the user's whole queue (notifications.digest).
    application = models.ForeignKey(
        "relief.Application",
        verbose_name=_("case"),
        on_delete=models.CASCADE,
        related_name="notifications",
        null=True,
        blank=True,
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=200)
    # A path inside the site (the case page the recipient's role works on).
    link = models.CharField(_("link"), max_length=200)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread")]

    def __str__(self):
        return self.title


class RobotKind(models.TextChoices):
    WECOM = "wecom", _("WeCom")
    DINGTALK = "dingtalk", _("DingTalk")


class GroupRobot(models.Model):
    """A union's group-chat robot: messages for the union's people go there too."""

    union = models.OneToOneField(
        "unions.Union",
        verbose_name=_("union"),
        on_delete=models.CASCADE,
        related_name="group_robot",
    )
    kind = models.CharField(_("platform"), max_length=10, choices=RobotKind.choices)
    webhook_url = models.CharField(_("webhook address"), max_length=500)
    # DingTalk's "加签" secret (SEC...); write-only in the admin.
    secret = models.CharField(_("signing secret"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("group robot")
        verbose_name_plural = _("group robots")
        ordering = ["union__path"]

    def __str__(self):
        return f"{self.union} · {self.get_kind_display()}"

    def clean(self):
        from notifications.robots import check_webhook

        check_webhook(self.kind, self.webhook_url, self.secret)


class Channel(models.TextChoices):
    ROBOT = "robot", _("Group robot")
    EMAIL = "email", _("E-mail")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Delivery(models.Model):
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    # The union whose people the message is for (the robot's union, the recipient's union):
    # the admin list is scoped by it.
    union = models.ForeignKey(
        "unions.Union", verbose_name=_("union"), on_delete=models.CASCADE, related_name="+"
    )
    robot = models.ForeignKey(
        GroupRobot,
        verbose_name=_("group robot"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deliveries",
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    application = models.ForeignKey(
        "relief.Application",
        verbose_name=_("case"),
        on_delete=models.CASCADE,
        related_name="+",
        null=True,
        blank=True,
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("message"))
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due")]

    def __str__(self):
        return self.subject
