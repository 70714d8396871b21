from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.commands import ProjectCommand
from notifications.models import Notification
from relief.demo import build_demo_cases
from unions.demo import build_demo_unions


class Command(ProjectCommand):
    help = gettext_lazy(
        "Build (or rebuild) the demo data: unions, users per role, workers and cases in every "
        "state. Safe to run again."
    )
    examples = [
        (
            "python manage.py migrate && python manage.py load_demo",
            gettext_lazy("a fresh demo database (what `make demo` does)"),
        ),
        ("python manage.py load_demo --verbosity 0", gettext_lazy("rebuild without output")),
    ]

    def handle(self, *args, **options):
        bar = self.progress(_("accounts"))
        accounts = build_demo_unions(progress=bar)
        bar.finish()
        made = build_demo_cases()
        # Replaying 梁志明's cases of 2019-2024 told his caseworker of each step, after the
        # fact: the notices of those long-closed cases would greet the demo as news.
        Notification.objects.filter(application__state="closed").delete()
        self.say(_("Workers created: %(workers)d; cases created: %(cases)d.") % made)
        self.say(_("Demo data is ready. Demo accounts:"), self.style.SUCCESS)
        for user, password in accounts:
            role = user.get_role_display() if user.role else _("administrator")
            union = user.union.name if user.union else "-"
            self.say(f"  {user.username:<14} {password:<10} {role}  {union}")
