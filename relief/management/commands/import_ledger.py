from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from config.commands import ProjectCommand, unreadable_file
from relief.services.import_once import AlreadyImported, file_digest, import_file_once
from relief.services.ledger import ledger_import, may_import
from tabular.tables import TableError, read_table


class Command(ProjectCommand):
    # A data command: the system checks (about half a second) are for `manage.py check`.
    requires_system_checks = []
    help = gettext_lazy(
        "Import the historical ledger (台账) from a CSV or XLSX file with the columns 姓名, "
        "身份证号, 基层工会, 困难类别, 困难情况, 申请日期, 批准金额, 发放日期, 发放金额, 资金来源, "
        "凭证号, 备注. Every row is checked first; all rows or none are written."
    )
    examples = [
        ("python manage.py import_ledger ledger.xlsx --dry-run", gettext_lazy("check only")),
        ("python manage.py import_ledger ledger.xlsx", gettext_lazy("all rows or none")),
        (
            "python manage.py import_ledger ledger.csv --user xq-reviewer",
            gettext_lazy("import within a town reviewer's scope, recorded as that reviewer"),
        ),
        (
            'python manage.py import_ledger ledger.xlsx --force "上次导入后台账已更正"',
            gettext_lazy("import a file that was already imported, on purpose (audited)"),
        ),
    ]

    def add_arguments(self, parser):
        parser.add_argument("file", help=gettext_lazy("path to a .csv or .xlsx file"))
        parser.add_argument(
            "--dry-run", action="store_true", help=gettext_lazy("check every row, write nothing")
        )
        parser.add_argument(
            "--user",
            help=gettext_lazy(
                "the account recorded as importer (default: the first active superuser)"
            ),
        )
        parser.add_argument(
            "--force",
            metavar="REASON",
            help=gettext_lazy(
                "import a file that was already imported, saying why (the reason is audited)"
            ),
        )

    def handle(self, *args, file, dry_run, user, force=None, **options):
        if force is not None and not force.strip():
            raise CommandError(_("--force needs a reason: say why the file is imported again."))
        actor = self._actor(user)
        try:
            table = read_table(file)
            digest = file_digest(Path(file).read_bytes())
        except TableError as exc:
            raise CommandError(str(exc)) from exc
        except OSError as exc:
            raise unreadable_file(file, exc) from exc
        try:
            result = import_file_once(
                ledger_import,
                kind="ledger",
                digest=digest,
                user=actor,
                force_reason=force,
                table=table,
                file_name=Path(file).name,
                dry_run=dry_run,
            )
        except AlreadyImported as exc:
            raise CommandError(
                "{} {}".format(
                    exc,
                    _(
                        "Check the imported cases; to import the file again on purpose, run "
                        'the command again with --force "the reason".'
                    ),
                )
            ) from None
        if result.errors:
            for error in result.errors:
                self.stderr.write(str(error))
            raise CommandError(
                ngettext(
                    "%(count)d error; nothing was written. Correct the rows above and run again.",
                    "%(count)d errors; nothing was written. Correct the rows above and run again.",
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
        self.say(message % counts, self.style.SUCCESS)

    def _actor(self, username):
        User = get_user_model()
        if username:
            try:
                actor = User.objects.get(username=username, is_active=True)
            except User.DoesNotExist:
                raise CommandError(
                    _("No active user %(name)s: check the user name in the admin (用户).")
                    % {"name": username}
                ) from None
            if not may_import(actor):
                raise CommandError(
                    _(
                        "%(name)s may not import: pass --user with a town reviewer, a district "
                        "officer or an administrator."
                    )
                    % {"name": username}
                )
            return actor
        actor = User.objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
        if actor is None:
            raise CommandError(
                _("No active superuser to record as importer: create one or pass --user.")
            )
        return actor
