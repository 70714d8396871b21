import datetime as dt

from django.core.management import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.commands import ProjectCommand
from notifications.digest import send_digests


class Command(ProjectCommand):
    help = gettext_lazy(
        "Send each user with overdue work their daily digest (in the app, and by e-mail where "
        "configured) and each union with a group robot a list of its people's overdue items. "
        "Run once a day; running it again the same day sends nothing new."
    )
    examples = [
        (
            "python manage.py send_digests",
            gettext_lazy("today's digests (a cron job or systemd timer at 08:00)"),
        ),
        (
            "python manage.py send_digests --date 2026-10-12",
            gettext_lazy("as if today were that date"),
        ),
    ]

    def add_arguments(self, parser):
        parser.add_argument(
            "--date", help=gettext_lazy("the day to count overdue items on (YYYY-MM-DD)")
        )

    def handle(self, *args, **options):
        today = None
        if options["date"]:
            try:
                today = dt.date.fromisoformat(options["date"])
            except ValueError:
                raise CommandError(
                    _("Not a date: %(value)s (write it as 2026-10-12).")
                    % {"value": options["date"]}
                ) from None
        run = send_digests(today=today)
        self.say(
            _(
                "Users with overdue items: %(users)d (items: %(items)d); digests sent in the app: "
                "%(notified)d, by e-mail: %(emails)d, to group robots: %(robots)d; already sent "
                "today: %(skipped)d."
            )
            % {
                "users": run.users,
                "items": run.items,
                "notified": run.notified,
                "emails": run.emails,
                "robots": run.robots,
                "skipped": run.skipped,
            }
        )
