from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.commands import ProjectCommand, check_output_path, unwritable_file
from relief.idcard import normalize_id_number
from relief.models import Worker
from reports import documents, pdf


class Command(ProjectCommand):
    help = gettext_lazy(
        "Write a worker's statement (个人救助累计明细): every payout, all years, running total."
    )
    examples = [
        (
            "python manage.py worker_statement --id-number 440605197208161996 -o liang.pdf",
            gettext_lazy("the statement of 梁志明 in the demo data"),
        ),
    ]

    def add_arguments(self, parser):
        parser.add_argument(
            "--id-number",
            required=True,
            help=gettext_lazy("the worker's 18-character ID number (身份证号)"),
        )
        parser.add_argument(
            "-o", "--output", required=True, help=gettext_lazy("the PDF file to write")
        )

    def handle(self, *args, **opts):
        try:
            worker = Worker.objects.get(id_number=normalize_id_number(opts["id_number"]))
        except Worker.DoesNotExist:
            raise CommandError(
                _(
                    "No worker with this ID number: check the number, or find the worker in "
                    "the admin."
                )
            ) from None
        output = opts["output"]
        check_output_path(output)
        bar = self.progress(_("statement"))
        bar(0, 1)
        context = documents.worker_statement(worker)
        try:
            result = pdf.render_simple("reports/pdf/worker_statement.html", context, output)
        except OSError as exc:
            raise unwritable_file(output, exc) from exc
        finally:
            bar(1, 1)
            bar.finish()
        self.say(
            _("%(file)s: %(count)d payouts, total %(total)s yuan")
            % {"file": output, "count": context["count"], "total": f"{context['total']:,.2f}"}
        )
        for warning in result["warnings"]:
            self.stderr.write(f"weasyprint: {warning}")
