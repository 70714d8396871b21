from django.utils.functional import SimpleLazyObject


def unread(request):
    """The signed-in user's unread notifications, counted only when a page shows the count."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def count():
        from notifications.models import Notification

        return Notification.objects.filter(recipient=user, read_at__isnull=True).count()

    return {"notifications_unread": SimpleLazyObject(count)}
