"""Import and export in the admin with django-import-export, through the import services.

The import page's dry run shows every row's errors by column (in Chinese), or a preview and a
confirm button; the confirm runs the same service for real, writing all rows or none. Files are
checked as a whole first (type by content, size, header). Exports use the ledger's columns, so
an export can be imported back, with ID numbers masked for users not allowed full numbers and
cells that a spreadsheet would run as formulas neutralized.
"""

import tempfile
from dataclasses import dataclass

import tablib
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.http import FileResponse, HttpResponseRedirect, StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from import_export import fields, resources
from import_export.admin import ImportExportMixin
from import_export.formats import base_formats
from import_export.forms import ExportForm, ImportForm
from import_export.results import Error, Result, RowResult
from import_export.signals import post_export

from privacy import access
from privacy.models import AccessKind
from relief import import_staging
from relief.admin.base import is_reviewer
from relief.idcard import mask_id_number
from relief.models import Application, Disbursement
from relief.services.import_once import (
    AlreadyImported,
    earlier_import,
    file_digest,
    import_file_once,
    import_key,
)
from relief.services.ledger import (
    FUND_SOURCE_WORDS,
    LEDGER_COLUMNS,
    ledger_import,
    may_import,
)
from relief.services.worker_import import (
    HOUSEHOLD_COLUMNS,
    WORKER_COLUMNS,
    household_import,
    workers_import,
)
from tabular import writers
from tabular.formulas import neutralize
from tabular.tables import (
    Table,
    TableError,
    check_size,
    check_suffix,
    read_table_bytes,
)

PREVIEW_ROWS = 20
WIDTHS = [10, 21, 12, 18, 40, 12, 12, 12, 12, 10, 16, 20]


# --- formats ---------------------------------------------------------------------------------


class _TableFormat:
    """Read through tabular.tables (calamine for workbooks), keeping spreadsheet row numbers
    (the header is row 1)."""

    suffix = ""

    def is_binary(self):
        return True

    def get_read_mode(self):
        return "rb"

    def create_dataset(self, in_stream, **kwargs):
        data = bytes(in_stream)
        table = read_table_bytes(data, f"upload{self.suffix}")
        dataset = tablib.Dataset(headers=table.headers)
        # The import's key (relief.services.import_once) comes from the bytes.
        dataset.relief_digest = file_digest(data)
        for _number, cells in table.rows:
            dataset.append([cells.get(h, "") for h in table.headers])
        dataset.relief_table = table
        return dataset


class CSVImport(_TableFormat, base_formats.CSV):
    suffix = ".csv"

    def get_title(self):
        return "csv"


class XLSXImport(_TableFormat, base_formats.XLSX):
    suffix = ".xlsx"

    def get_title(self):
        return "xlsx"


class ODSImport(_TableFormat, base_formats.Format):
    """Not tablib's ODS format (it needs odfpy): calamine reads the file, as for XLSX."""

    suffix = ".ods"

    def __init__(self, encoding=None):
        self.encoding = encoding

    def get_title(self):
        return "ods"

    def get_extension(self):
        return "ods"

    def get_content_type(self):
        return "application/vnd.oasis.opendocument.spreadsheet"

    def can_import(self):
        return True


class CSVExport(base_formats.CSV):
    def export_data(self, dataset, **kwargs):
        # The BOM makes Excel on Chinese Windows read the file as UTF-8.
        return "\ufeff" + super().export_data(dataset, **kwargs)


IMPORT_FORMATS = [XLSXImport, CSVImport, ODSImport]
EXPORT_FORMATS = [base_formats.XLSX, CSVExport]


class TableImportForm(ImportForm):
    """The format follows the file's extension, and the file is checked before any row is."""

    def __init__(self, formats, resources, **kwargs):
        super().__init__(formats, resources, **kwargs)
        self.formats = formats
        self.fields["format"].required = False
        self.fields["format"].widget = forms.HiddenInput()
        self.fields["import_file"].help_text = _(
            ".xlsx, .ods or .csv (UTF-8 or GBK); the first row holds the column headers."
        )

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("import_file")
        if not upload:
            return cleaned
        try:
            check_suffix(upload.name)
            check_size(upload.size)  # before reading a byte of it
            table = read_table_bytes(upload.read(), upload.name)
        except TableError as exc:
            self.add_error("import_file", str(exc))
            return cleaned
        finally:
            upload.seek(0)
        if not table.rows:
            self.add_error("import_file", _("The file has a header row but no data rows."))
        suffix = upload.name.lower().rsplit(".", 1)[-1]
        cleaned["format"] = str(
            next(i for i, f in enumerate(self.formats) if f.suffix == f".{suffix}")
        )
        return cleaned


class StagedConfirmForm(forms.Form):
    """The confirm step carries only a random key; the session knows the file behind it."""

    key = forms.CharField(max_length=64, widget=forms.HiddenInput())


class _HeldUpload:
    """Stands in for the library's temporary file: the preview reads the upload from memory.

    Only a preview that can be confirmed keeps the file (import_staging.stage); one with errors
    leaves nothing on disk.
    """

    name = None

    def __init__(self, data: bytes):
        self.data = data

    def read(self):
        return self.data

    def remove(self):
        pass


# --- import resources --------------------------------------------------------------------


@dataclass
class ImportSummary:
    """What the template shows: the service's outcome in words and numbers."""

    errors: list
    counts: list[tuple[str, int]]
    dry_run: bool
    # Set when the file was imported before: who and when, and nothing was written.
    already: str = ""


class ServiceResource(resources.Resource):
    """A resource whose import is one call to an all-or-nothing import service."""

    columns: list[str] = []
    service = None
    kind = ""  # relief.services.import_once.TARGETS

    def __init__(self, **kwargs):
        super().__init__()

    @classmethod
    def get_display_name(cls):
        return str(cls.display_name)

    def get_user_visible_fields(self):
        return [fields.Field(column_name=c) for c in self.columns]

    def get_import_fields(self):
        return self.get_user_visible_fields()

    def import_data(self, dataset, dry_run=False, raise_errors=False, **kwargs):
        table = getattr(dataset, "relief_table", None)
        if table is None:  # a dataset built elsewhere: rows follow the header directly
            table = Table(
                headers=list(dataset.headers or []),
                rows=[
                    (i, dict(zip(dataset.headers, row, strict=False)))
                    for i, row in enumerate(dataset, 2)
                ],
            )
        arguments = {
            "table": table,
            "user": kwargs["user"],
            "file_name": kwargs.get("file_name") or "upload",
            "dry_run": dry_run,
        }
        digest = getattr(dataset, "relief_digest", None)
        if digest is None:  # not read from a file: nothing to key it by
            return self.to_result(table, type(self).service(**arguments), dry_run)
        try:
            outcome = import_file_once(
                type(self).service, kind=self.kind, digest=digest, **arguments
            )
        except AlreadyImported as exc:
            result = Result()
            result.diff_headers = list(self.columns)
            result.relief = ImportSummary([], [], dry_run, already=str(exc))
            result.append_base_error(Error(ValidationError(str(exc))))
            return result
        return self.to_result(table, outcome, dry_run)

    def counts(self, outcome) -> list[tuple[str, int]]:
        raise NotImplementedError

    def to_result(self, table, outcome, dry_run) -> Result:
        result = Result()
        result.diff_headers = list(self.columns)
        result.relief = ImportSummary(outcome.errors, self.counts(outcome), dry_run)
        cells = dict(table.rows)
        by_row: dict[int, dict[str, list[str]]] = {}
        for error in outcome.errors:
            if error.row == 1:
                result.append_base_error(Error(ValidationError(str(error))))
                continue
            by_row.setdefault(error.row, {}).setdefault(
                error.column or NON_FIELD_ERRORS, []
            ).append(error.message)
        for number, errors in by_row.items():
            result.append_invalid_row(number, cells.get(number, {}), ValidationError(errors))
        if not outcome.errors:
            for _number, row in table.rows[:PREVIEW_ROWS]:
                row_result = RowResult()
                row_result.import_type = RowResult.IMPORT_TYPE_NEW
                row_result.diff = [_display(row.get(c, "")) for c in self.columns]
                result.append_row_result(row_result)
            result.totals[RowResult.IMPORT_TYPE_NEW] = outcome.rows
        return result


def _display(value) -> str:
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d")
    return str(value)


class LedgerResource(ServiceResource):
    display_name = gettext_lazy("Historical ledger (one row per case and payout)")
    columns = LEDGER_COLUMNS
    service = staticmethod(ledger_import)
    kind = "ledger"

    def counts(self, outcome):
        return [
            (_("rows"), outcome.rows),
            (_("workers created"), outcome.workers_created),
            (_("workers already on file"), outcome.workers_existing),
            (_("cases"), outcome.cases),
            (_("payouts"), outcome.payouts),
        ]


class WorkerResource(ServiceResource):
    display_name = gettext_lazy("Workers")
    columns = list(WORKER_COLUMNS)
    service = staticmethod(workers_import)
    kind = "workers"

    def counts(self, outcome):
        return [
            (_("rows"), outcome.rows),
            (_("workers created"), outcome.created),
            (_("workers updated"), outcome.updated),
        ]


class HouseholdResource(ServiceResource):
    display_name = gettext_lazy("Household members (replace each listed worker's household)")
    columns = list(HOUSEHOLD_COLUMNS)
    service = staticmethod(household_import)
    kind = "household"

    def counts(self, outcome):
        return [
            (_("rows"), outcome.rows),
            (_("workers"), outcome.workers),
            (_("household members"), outcome.created),
        ]


# --- export resources --------------------------------------------------------------------


class LedgerExportResource(resources.Resource):
    """Rows in the ledger's columns, so that an export can be imported back.

    Rows are read with values_list in chunks of CHUNK cases (no model instances), so 10,000
    cases export in a fraction of a second and 100,000 stream in constant memory.
    """

    display_name = ""
    CHUNK = 900  # ids per IN (...), under SQLite's historical parameter limit

    def __init__(self, user=None, **kwargs):
        super().__init__()
        self.user = user

    @classmethod
    def get_display_name(cls):
        return str(cls.display_name)

    def get_user_visible_fields(self):
        return [fields.Field(column_name=c) for c in LEDGER_COLUMNS]

    def get_export_headers(self, selected_fields=None):
        return list(LEDGER_COLUMNS)

    @property
    def full_id_numbers(self) -> bool:
        return access.may_see_full(self.user, access.ID_NUMBER)

    def export(self, queryset=None, **kwargs):
        dataset = tablib.Dataset(headers=list(LEDGER_COLUMNS))
        for row in self.neutral_rows(queryset):
            dataset.append(row)
        return dataset

    def neutral_rows(self, queryset):
        """The rows, every text cell through the formula guard."""
        for row in self.rows(queryset):
            yield [neutralize(v) for v in row]

    def case_chunks(self, queryset):
        """(case cells by case id, [case ids in order]) for CHUNK cases at a time."""
        full = self.full_id_numbers
        cases = queryset.values_list(
            "pk",
            "worker__name",
            "worker__id_number",
            "union__code",
            "narrative",
            "application_date",
            "approved_amount",
        )
        chunk: list = []
        for row in cases.iterator(chunk_size=self.CHUNK):
            chunk.append(row)
            if len(chunk) == self.CHUNK:
                yield self._cells(chunk, full)
                chunk = []
        if chunk:
            yield self._cells(chunk, full)

    def _cells(self, chunk, full: bool) -> dict[int, list]:
        ids = [row[0] for row in chunk]
        through = Application.categories.through
        names: dict[int, list[str]] = {}
        for app_id, name in (
            through.objects.filter(application_id__in=ids)
            .order_by("application_id", "hardshipcategory__order", "hardshipcategory__name")
            .values_list("application_id", "hardshipcategory__name")
        ):
            names.setdefault(app_id, []).append(name)
        return {
            pk: [
                worker,
                id_number if full else mask_id_number(id_number),
                union,
                "、".join(names.get(pk, [])),
                narrative,
                applied,
                approved if approved is not None else "",
            ]
            for pk, worker, id_number, union, narrative, applied, approved in chunk
        }

    @staticmethod
    def payouts_of(ids):
        return (
            Disbursement.objects.filter(application_id__in=ids)
            .order_by("paid_on", "pk")
            .values_list(
                "application_id", "paid_on", "amount", "fund_source", "voucher_no", "notes"
            )
        )


class ApplicationExportResource(LedgerExportResource):
    """One row per case; a case paid in several payouts shows their total and last date."""

    display_name = gettext_lazy("Cases (one row per case)")

    def count(self, queryset) -> int:
        return queryset.count()

    def rows(self, queryset):
        for cases in self.case_chunks(queryset):
            paid: dict[int, list] = {}
            for app_id, *payout in self.payouts_of(list(cases)):
                paid.setdefault(app_id, []).append(payout)
            for pk, cells in cases.items():
                payouts = paid.get(pk, [])
                yield [
                    *cells,
                    max(p[0] for p in payouts) if payouts else "",
                    sum(p[1] for p in payouts) if payouts else "",
                    "、".join(dict.fromkeys(FUND_SOURCE_WORDS[p[2]] for p in payouts)),
                    "、".join(p[3] for p in payouts if p[3]),
                    "；".join(p[4] for p in payouts if p[4]),
                ]


class PayoutExportResource(LedgerExportResource):
    """The ledger proper: one row per payout with its case."""

    display_name = gettext_lazy("Ledger (one row per payout)")

    def count(self, queryset) -> int:
        return Disbursement.objects.filter(application__in=queryset.values("pk")).count()

    def rows(self, queryset):
        # In payout order across the whole selection, as before: the cases' cells are read
        # for each chunk of payouts.
        payouts = (
            Disbursement.objects.filter(application__in=queryset.values("pk"))
            .order_by("paid_on", "pk")
            .values_list(
                "application_id", "paid_on", "amount", "fund_source", "voucher_no", "notes"
            )
        )
        chunk: list = []
        for row in payouts.iterator(chunk_size=self.CHUNK):
            chunk.append(row)
            if len(chunk) == self.CHUNK:
                yield from self._payout_rows(queryset, chunk)
                chunk = []
        if chunk:
            yield from self._payout_rows(queryset, chunk)

    def _payout_rows(self, queryset, chunk):
        ids = {row[0] for row in chunk}
        cases: dict[int, list] = {}
        for part in self.case_chunks(queryset.filter(pk__in=ids)):
            cases.update(part)
        for app_id, paid_on, amount, source, voucher, notes in chunk:
            yield [*cases[app_id], paid_on, amount, FUND_SOURCE_WORDS[source], voucher, notes]


# --- the admin mixin ---------------------------------------------------------------------


class ServiceImportExportMixin(ImportExportMixin):
    """django-import-export's pages, with our formats, forms, permissions and result page."""

    import_template_name = "admin/relief/import.html"
    import_form_class = TableImportForm
    confirm_form_class = StagedConfirmForm
    export_form_class = ExportForm
    skip_admin_log = True  # the audit trail records imports, row by row
    import_resource_classes: list = []
    export_resource_classes: list = []
    actions = ["export_xlsx", "export_csv"]
    export_widths = WIDTHS

    @property
    def import_formats(self):
        return IMPORT_FORMATS

    @property
    def export_formats(self):
        return EXPORT_FORMATS

    def get_import_resource_classes(self, request):
        return self.import_resource_classes

    def get_export_resource_classes(self, request):
        return self.export_resource_classes

    def get_export_resource_kwargs(self, request, **kwargs):
        return {"user": request.user}

    def record_export(self, request, resource_class, rows: int) -> None:
        """An export holding full ID numbers goes into the access log (before it is sent)."""
        if not issubclass(resource_class, LedgerExportResource):
            return
        if not access.may_see_full(request.user, access.ID_NUMBER):
            return
        access.record(
            request,
            AccessKind.FULL_EXPORT,
            detail=f"admin {self.model._meta.model_name}: {resource_class.get_display_name()}, "
            f"{rows} rows",
        )

    def _do_file_export(self, file_format, request, queryset, export_form=None):
        """The export page's download: streamed, not the library's in-memory dataset."""
        if not self.has_export_permission(request):
            raise PermissionDenied
        resource_class = self.choose_export_resource_class(export_form, request)
        return self._stream_export(request, queryset, resource_class, file_format)

    def _stream_export(self, request, queryset, resource_class, file_format):
        """CSV sent as it is written; XLSX written in constant memory to a temporary file
        and sent from there (tabular.writers). The access log is written first.

        Above EXPORTS_DIRECT_MAX_ROWS rows nothing is written here: the export becomes a
        background job like the reports page's ledger, and the user is sent to its page."""
        resource = resource_class(user=request.user)
        rows_total = resource.count(queryset)
        if rows_total > settings.EXPORTS_DIRECT_MAX_ROWS:
            return self._background_export(
                request, queryset, resource_class, file_format, rows_total
            )
        self.record_export(request, resource_class, rows_total)
        rows = resource.neutral_rows(queryset)
        if file_format.get_extension() == "csv":
            response = StreamingHttpResponse(
                writers.csv_chunks(LEDGER_COLUMNS, rows), content_type=writers.CSV_CONTENT_TYPE
            )
        else:
            spool = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
            try:
                writers.write_xlsx(spool, LEDGER_COLUMNS, rows, sheet="台账", widths=WIDTHS)
            except BaseException:
                spool.close()
                raise
            spool.seek(0)
            response = FileResponse(spool, content_type=writers.XLSX_CONTENT_TYPE)
        filename = self.get_export_filename(request, queryset, file_format)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        post_export.send(sender=None, model=self.model)
        return response

    def _background_export(self, request, queryset, resource_class, file_format, rows):
        # The job model, its worker and its pages belong to reports (what leaves the
        # system); imported here, when needed, so relief's modules load without reports.
        from reports import admin_exports

        job = admin_exports.start(
            request, self, queryset, resource_class, file_format.get_extension(), rows
        )
        messages.info(
            request,
            _(
                "The export (%(rows)s rows) is being prepared in the background. This page "
                "shows its progress and the download link when it is ready; it also stays "
                "listed under Reports → Your recent reports."
            )
            % {"rows": rows},
        )
        return HttpResponseRedirect(reverse("reports:job", args=[job.pk]))

    def has_import_permission(self, request):
        return bool(self.import_resource_classes) and may_import(request.user)

    def has_export_permission(self, request):
        user = request.user
        return bool(self.export_resource_classes) and (user.is_superuser or is_reviewer(user))

    def get_export_filename(self, request, queryset, file_format):
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        return f"{self.model._meta.model_name}-{stamp}.{file_format.get_extension()}"

    def add_success_message(self, result, request):
        summary = result.relief
        messages.success(
            request,
            _("Import finished: %(counts)s.")
            % {"counts": ", ".join(f"{label} {n}" for label, n in summary.counts)},
        )

    # --- preview and confirm: the file stays on the server, bound to the session ----------

    def write_to_tmp_storage(self, import_file, input_format):
        import_file.seek(0)
        return _HeldUpload(import_file.read())

    def get_confirm_form_initial(self, request, import_form):
        if import_form is None:
            return {}
        upload = import_form.cleaned_data["import_file"]
        upload.seek(0)
        data = upload.read()
        key = import_staging.stage(
            request,
            data,
            model=self.model._meta.label,
            name=upload.name,
            resource=self._resource_index(import_form.cleaned_data.get("resource")),
            digest=file_digest(data),
        )
        return {"key": key}

    def _resource_index(self, value) -> int:
        try:
            index = int(value or 0)
        except (TypeError, ValueError):
            return 0
        return index if 0 <= index < len(self.import_resource_classes) else 0

    def _back_to_import(self):
        info = self.get_model_info()
        return HttpResponseRedirect(reverse(f"admin:{info[0]}_{info[1]}_import"))

    @method_decorator(require_POST)
    def process_import(self, request, **kwargs):
        """Confirm: the file staged for this session under the posted key, or a message."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        try:
            data, record = import_staging.take(
                request, request.POST.get("key"), model=self.model._meta.label
            )
        except import_staging.StagedImportMissing as exc:
            earlier = self._earlier_import(request, exc.record)
            if earlier is not None:
                # The confirm was sent again (its first response was lost): say so.
                messages.warning(request, f"{earlier.text()} {self.already_hint()}")
                return self._back_to_import()
            messages.error(
                request,
                _(
                    "This import is no longer waiting for confirmation (it expired, was already "
                    "confirmed or belongs to another session): upload the file again."
                ),
            )
            return self._back_to_import()
        resource_class = self.get_import_resource_classes(request)[
            self._resource_index(record["resource"])
        ]
        try:
            suffix = check_suffix(record["name"])
            input_format = next(f for f in IMPORT_FORMATS if f.suffix == suffix)()
            dataset = input_format.create_dataset(data)
        except TableError as exc:
            messages.error(request, str(exc))
            return self._back_to_import()
        result = resource_class().import_data(
            dataset, dry_run=False, file_name=record["name"], user=request.user
        )
        return self.process_result(result, request)

    def _earlier_import(self, request, record):
        if not record or not record.get("digest"):
            return None
        classes = self.get_import_resource_classes(request)
        kind = classes[self._resource_index(record.get("resource"))].kind
        return earlier_import(import_key(record["digest"], kind))

    @staticmethod
    def already_hint() -> str:
        return _("Check the imported records; there is nothing more to do.")

    def process_result(self, result, request):
        if result.relief.already:
            messages.warning(request, f"{result.relief.already} {self.already_hint()}")
            return self._back_to_import()
        if result.relief.errors:
            # The data changed between preview and confirm: nothing was written.
            for error in result.relief.errors[:20]:
                messages.error(request, str(error))
            messages.error(request, _("Nothing was imported; check the file and try again."))
            return self._back_to_import()
        return super().process_result(result, request)

    # Exports of a selection go straight to the file: the library's intermediate page puts
    # every selected id in the form, which Django refuses above 1,000 fields.
    def _export_selection(self, request, queryset, file_format):
        if not self.has_export_permission(request):
            messages.error(request, _("Your role cannot export."))
            return None
        resource_class = self.get_export_resource_classes(request)[0]
        return self._stream_export(request, queryset, resource_class, file_format)

    @admin.action(description=gettext_lazy("Export selected to Excel (xlsx)"))
    def export_xlsx(self, request, queryset):
        return self._export_selection(request, queryset, base_formats.XLSX())

    @admin.action(description=gettext_lazy("Export selected to CSV"))
    def export_csv(self, request, queryset):
        return self._export_selection(request, queryset, CSVExport())

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not self.has_export_permission(request):
            actions.pop("export_xlsx", None)
            actions.pop("export_csv", None)
        return actions
