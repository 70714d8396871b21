import time

from django.core.management.base import BaseCommand, CommandError

from reports import pdf
from reports.figures import Period
from reports.management.progress import ProgressBar
from unions.models import Union


class Command(BaseCommand):
    help = "Write the yearly payout report (年度临时救助金发放汇总表) of a union as a PDF."

    def add_arguments(self, parser):
        parser.add_argument("--unit", required=True, help="union code, e.g. NH or XQ")
        parser.add_argument("--year", type=int)
        parser.add_argument("--from", dest="first_year", type=int)
        parser.add_argument("--to", dest="last_year", type=int)
        parser.add_argument("-o", "--output", required=True, help="the PDF file to write")
        parser.add_argument(
            "--chunk-rows",
            type=int,
            default=pdf.DEFAULT_CHUNK_ROWS,
            help="rows rendered per WeasyPrint document (memory vs. speed)",
        )

    def handle(self, *args, **opts):
        try:
            unit = Union.objects.get(code=opts["unit"])
        except Union.DoesNotExist:
            raise CommandError(f"No union with code {opts['unit']!r}.") from None
        year, first, last = opts["year"], opts["first_year"], opts["last_year"]
        if year and (first or last):
            raise CommandError("Give --year or --from/--to, not both.")
        if year:
            first = last = year
        if not (first and last):
            raise CommandError("Give --year YYYY or --from YYYY --to YYYY.")
        if first > last:
            raise CommandError("--from comes after --to.")
        bar = ProgressBar(self.stderr._out, label="rows")
        started = time.monotonic()
        result = pdf.render_payout_report(
            unit, Period(first, last), opts["output"], chunk_rows=opts["chunk_rows"], progress=bar
        )
        bar.finish()
        self.stdout.write(
            f"{opts['output']}: {result['rows']} payouts, {result['pages']} pages, "
            f"{time.monotonic() - started:.1f} s"
        )
        for warning in result["warnings"]:
            self.stderr.write(f"weasyprint: {warning}")
