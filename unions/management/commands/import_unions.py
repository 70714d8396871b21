from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from config.commands import ProjectCommand, unreadable_file
from tabular.tables import TableError
from unions.importing import import_unions


class Command(ProjectCommand):
    help = gettext_lazy(
        "Create or update unions from a CSV or XLSX file with the columns "
        "代码, 名称, 级别, 类型, 上级代码. All rows or none are written."
    )
    examples = [
        (
            "python manage.py import_unions fixtures/demo_unions.csv",
            gettext_lazy("the demo tree (an example of the columns)"),
        ),
        ("python manage.py import_unions unions.xlsx", gettext_lazy("or a .csv (UTF-8 or GBK)")),
    ]

    def add_arguments(self, parser):
        parser.add_argument("file", help=gettext_lazy("path to a .csv or .xlsx file"))

    def handle(self, *args, file, **options):
        try:
            result = import_unions(file)
        except TableError as exc:
            raise CommandError(str(exc)) from exc
        except OSError as exc:
            raise unreadable_file(file, exc) from exc
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
        self.say(
            _("Unions imported: %(created)d created, %(updated)d updated.")
            % {"created": result.created, "updated": result.updated},
            self.style.SUCCESS,
        )
