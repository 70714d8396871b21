from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from relief.demo import build_demo_cases
from unions.demo import build_demo_unions


class Command(BaseCommand):
    help = gettext_lazy(
        "Build (or rebuild) the demo data: unions, users per role, workers and cases in every "
        "state. Safe to run again."
    )

    def handle(self, *args, **options):
        accounts = build_demo_unions()
        made = build_demo_cases()
        self.stdout.write(_("Workers created: %(workers)d; cases created: %(cases)d.") % made)
        self.stdout.write(self.style.SUCCESS(_("Demo data is ready. Demo accounts:")))
        for user, password in accounts:
            role = user.get_role_display() if user.role else _("administrator")
            union = user.union.name if user.union else "-"
            self.stdout.write(f"  {user.username:<14} {password:<10} {role}  {union}")
