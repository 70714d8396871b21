import time

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.commands import ProjectCommand, check_output_path, unwritable_file
from reports import pdf
from reports.figures import Period
from unions.models import Union


class Command(ProjectCommand):
    help = gettext_lazy(
        "Write the yearly payout report (年度临时救助金发放汇总表) of a union as a PDF."
    )
    examples = [
        (
            "python manage.py payout_report --unit NH --year 2024 -o nh-2024.pdf",
            gettext_lazy("the district's payouts of one year"),
        ),
        (
            "python manage.py payout_report --unit XQ --from 2019 --to 2024 -o xq.pdf",
            gettext_lazy("a town's payouts over several years"),
        ),
    ]

    def add_arguments(self, parser):
        parser.add_argument(
            "--unit",
            required=True,
            help=gettext_lazy("code of the union whose subtree is reported, e.g. NH or XQ"),
        )
        parser.add_argument("--year", type=int, help=gettext_lazy("one calendar year, e.g. 2024"))
        parser.add_argument(
            "--from",
            dest="first_year",
            type=int,
            metavar="YEAR",
            help=gettext_lazy("first year of a period (with --to)"),
        )
        parser.add_argument(
            "--to",
            dest="last_year",
            type=int,
            metavar="YEAR",
            help=gettext_lazy("last year of a period (with --from)"),
        )
        parser.add_argument(
            "-o", "--output", required=True, help=gettext_lazy("the PDF file to write")
        )
        parser.add_argument(
            "--chunk-rows",
            type=int,
            default=pdf.DEFAULT_CHUNK_ROWS,
            help=gettext_lazy(
                "rows rendered per WeasyPrint document (memory against speed; default %(default)s)"
            ),
        )

    def handle(self, *args, **opts):
        try:
            unit = Union.objects.get(code=opts["unit"])
        except Union.DoesNotExist:
            raise CommandError(
                _("No union with code %(code)s: use a code of the union tree, e.g. NH or XQ.")
                % {"code": opts["unit"]}
            ) from None
        year, first, last = opts["year"], opts["first_year"], opts["last_year"]
        if year and (first or last):
            raise CommandError(_("Give either --year or --from/--to, not both."))
        if year:
            first = last = year
        if not (first and last):
            raise CommandError(_("Give the period: --year YYYY, or --from YYYY --to YYYY."))
        if first > last:
            raise CommandError(_("--from comes after --to: give the earlier year first."))
        if opts["chunk_rows"] < 1:
            raise CommandError(_("--chunk-rows must be at least 1."))
        output = opts["output"]
        check_output_path(output)
        bar = self.progress(_("rows"))
        started = time.monotonic()
        try:
            result = pdf.render_payout_report(
                unit, Period(first, last), output, chunk_rows=opts["chunk_rows"], progress=bar
            )
        except OSError as exc:
            raise unwritable_file(output, exc) from exc
        finally:
            bar.finish()
        self.say(
            _("%(file)s: %(rows)d payouts, %(pages)d pages, %(seconds).1f s")
            % {
                "file": output,
                "rows": result["rows"],
                "pages": result["pages"],
                "seconds": time.monotonic() - started,
            }
        )
        for warning in result["warnings"]:
            self.stderr.write(f"weasyprint: {warning}")
