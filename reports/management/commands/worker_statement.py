from django.core.management.base import BaseCommand, CommandError

from relief.idcard import normalize_id_number
from relief.models import Worker
from reports import documents, pdf
from reports.management.progress import ProgressBar


class Command(BaseCommand):
    help = "Write a worker's statement (个人救助累计明细): every payout, all years, running total."

    def add_arguments(self, parser):
        parser.add_argument("--id-number", required=True)
        parser.add_argument("-o", "--output", required=True, help="the PDF file to write")

    def handle(self, *args, **opts):
        try:
            worker = Worker.objects.get(id_number=normalize_id_number(opts["id_number"]))
        except Worker.DoesNotExist:
            raise CommandError("No worker with this ID number.") from None
        bar = ProgressBar(self.stderr._out, label="statement")
        bar(0, 1)
        context = documents.worker_statement(worker)
        result = pdf.render_simple("reports/pdf/worker_statement.html", context, opts["output"])
        bar(1, 1)
        bar.finish()
        self.stdout.write(
            f"{opts['output']}: {context['count']} payouts, total {context['total']:.2f}"
        )
        for warning in result["warnings"]:
            self.stderr.write(f"weasyprint: {warning}")
