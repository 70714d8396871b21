from django.core.management.base import CommandError
from django.db import connection, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.commands import ProjectCommand
from relief.services import totals

# Lines of differences printed before "... and N more".
SHOWN = 20


class Command(ProjectCommand):
    help = gettext_lazy(
        "Recompute the monthly totals of the dashboard and the funds page from the payouts and "
        "income, and report any difference from the stored ones (exit status 1 when there is "
        "one); --repair replaces the stored totals with the recomputed ones."
    )
    examples = [
        (
            "python manage.py check_totals",
            gettext_lazy("compare the totals with the ledger, changing nothing"),
        ),
        (
            "python manage.py check_totals --repair",
            gettext_lazy("rebuild the totals after a difference (or after a bulk load)"),
        ),
    ]

    def add_arguments(self, parser):
        parser.add_argument(
            "--repair",
            action="store_true",
            help=gettext_lazy("replace the stored totals with the recomputed ones"),
        )

    def handle(self, *args, **opts):
        # One snapshot of ledger and totals, and no writer in between while repairing.
        outermost = not connection.in_atomic_block  # not inside a caller's transaction
        with transaction.atomic():
            if connection.vendor == "postgresql" and outermost and not opts["repair"]:
                # Ledger and totals read from one snapshot while payouts go on.
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            expected = totals.recompute()
            found = totals.stored()
            lines = totals.differences(expected, found)
            if lines and opts["repair"]:
                totals.rebuild()
        if not lines:
            self.say(
                _("The monthly totals equal the ledger (%(rows)d rows).")
                % {"rows": len(expected.totals)}
            )
            return
        for line in lines[:SHOWN]:
            self.stderr.write(line)
        if len(lines) > SHOWN:
            self.stderr.write(_("… and %(n)d more") % {"n": len(lines) - SHOWN})
        if opts["repair"]:
            self.say(
                _("%(n)d differences found and repaired: the totals are rebuilt from the ledger.")
                % {"n": len(lines)}
            )
            return
        raise CommandError(
            _(
                "%(n)d monthly totals differ from the ledger: run “manage.py check_totals "
                "--repair” to rebuild them."
            )
            % {"n": len(lines)}
        )
