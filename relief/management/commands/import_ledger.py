from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from relief.services.ledger import ledger_import
from unions.tabular import TableError, read_table


class Command(BaseCommand):
    # A data command: the system checks (about half a second) are for `manage.py check`.
    requires_system_checks = []
    help = gettext_lazy(
        "Import the historical ledger (台账) from a CSV or XLSX file with the columns 姓名, "
        "身份证号, 基层工会, 困难类别, 困难情况, 申请日期, 批准金额, 发放日期, 发放金额, 资金来源, "
        "凭证号, 备注. Every row is checked first; all rows or none are written."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help=_("path to a .csv or .xlsx file"))
        parser.add_argument(
            "--dry-run", action="store_true", help=_("check every row, write nothing")
        )
        parser.add_argument(
            "--user",
            help=_("the account recorded as importer (default: the first active superuser)"),
        )

    def handle(self, *args, file, dry_run, user, **options):
        actor = self._actor(user)
        try:
            table = read_table(file)
        except (TableError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        result = ledger_import(table=table, user=actor, file_name=Path(file).name, dry_run=dry_run)
        if result.errors:
            for error in result.errors:
                self.stderr.write(str(error))
            raise CommandError(
                ngettext(
                    "%(count)d error; nothing was written.",
                    "%(count)d errors; nothing was written.",
                    len(result.errors),
                )
                % {"count": len(result.errors)}
            )
        counts = {
            "rows": result.rows,
            "created": result.workers_created,
            "existing": result.workers_existing,
            "cases": result.cases,
            "payouts": result.payouts,
            "total": f"{result.total_paid:,.2f}",
        }
        if dry_run:
            message = _(
                "Dry run: all %(rows)d rows are valid. Importing would create %(created)d "
                "workers (%(existing)d already on file), %(cases)d cases and %(payouts)d "
                "payouts (%(total)s yuan). Nothing was written."
            )
        else:
            message = _(
                "Imported %(rows)d rows: %(created)d workers created (%(existing)d already on "
                "file), %(cases)d cases and %(payouts)d payouts (%(total)s yuan)."
            )
        self.stdout.write(self.style.SUCCESS(message % counts))

    def _actor(self, username):
        User = get_user_model()
        if username:
            try:
                return User.objects.get(username=username, is_active=True)
            except User.DoesNotExist:
                raise CommandError(_("No active user %(name)s.") % {"name": username}) from None
        actor = User.objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
        if actor is None:
            raise CommandError(
                _("No active superuser to record as importer: create one or pass --user.")
            )
        return actor
