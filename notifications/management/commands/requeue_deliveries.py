from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.commands import ProjectCommand
from notifications.tasks import requeue_stale


class Command(ProjectCommand):
    help = gettext_lazy(
        "Queue again the robot and e-mail messages still waiting NOTIFY_REQUEUE_SECONDS after "
        "they were due: their queueing failed or their task was lost. A message already sent "
        "is never sent again; running it twice queues nothing new."
    )
    examples = [
        (
            "python manage.py requeue_deliveries",
            gettext_lazy("queue the stuck messages again (a cron job every 10 minutes)"),
        ),
    ]

    def handle(self, *args, **options):
        count = requeue_stale()
        self.say(_("Messages queued again: %(count)d.") % {"count": count})
