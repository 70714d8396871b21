from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from unions.importing import import_unions
from unions.tabular import TableError


class Command(BaseCommand):
    help = gettext_lazy(
        "Create or update unions from a CSV or XLSX file with the columns "
        "代码, 名称, 级别, 类型, 上级代码. All rows or none are written."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help=_("path to a .csv or .xlsx file"))

    def handle(self, *args, file, **options):
        try:
            result = import_unions(file)
        except (TableError, OSError) as exc:
            raise CommandError(str(exc)) from exc
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
        self.stdout.write(
            self.style.SUCCESS(
                _("Unions imported: %(created)d created, %(updated)d updated.")
                % {"created": result.created, "updated": result.updated}
            )
        )
