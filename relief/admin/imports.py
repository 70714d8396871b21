"""Import and export in the admin with django-import-export, through the import services.

The import page's dry run shows every row's errors by column (in Chinese), or a preview and a
confirm button; the confirm runs the same service for real, writing all rows or none. Files are
checked as a whole first (type by content, size, header). Exports use the ledger's columns, so
an export can be imported back, with ID numbers masked for users not allowed full numbers and
cells that a spreadsheet would run as formulas neutralized.
"""

from dataclasses import dataclass

import tablib
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseRedirect
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

from privacy import access
from privacy.models import AccessKind
from relief import import_staging
from relief.admin.base import is_reviewer
from relief.idcard import mask_id_number
from relief.models import Disbursement
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
from tabular.formulas import neutralize
from tabular.tables import (
    Table,
    TableError,
    check_size,
    check_suffix,
    read_table_bytes,
)

PREVIEW_ROWS = 20


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
        table = read_table_bytes(bytes(in_stream), f"upload{self.suffix}")
        dataset = tablib.Dataset(headers=table.headers)
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


class ServiceResource(resources.Resource):
    """A resource whose import is one call to an all-or-nothing import service."""

    columns: list[str] = []
    service = None

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
        outcome = type(self).service(
            table=table,
            user=kwargs["user"],
            file_name=kwargs.get("file_name") or "upload",
            dry_run=dry_run,
        )
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

    def counts(self, outcome):
        return [
            (_("rows"), outcome.rows),
            (_("workers"), outcome.workers),
            (_("household members"), outcome.created),
        ]


# --- export resources --------------------------------------------------------------------


class LedgerExportResource(resources.Resource):
    """Rows in the ledger's columns, so that an export can be imported back."""

    display_name = ""

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

    def id_number(self, number: str) -> str:
        return number if self.full_id_numbers else mask_id_number(number)

    def export(self, queryset=None, **kwargs):
        dataset = tablib.Dataset(headers=list(LEDGER_COLUMNS))
        for row in self.rows(queryset):
            dataset.append([neutralize(v) for v in row])
        return dataset

    def case_cells(self, app) -> list:
        return [
            app.worker.name,
            self.id_number(app.worker.id_number),
            app.union.code,
            "、".join(c.name for c in app.categories.all()),
            app.narrative,
            app.application_date,
            app.approved_amount if app.approved_amount is not None else "",
        ]


class ApplicationExportResource(LedgerExportResource):
    """One row per case; a case paid in several payouts shows their total and last date."""

    display_name = gettext_lazy("Cases (one row per case)")

    def rows(self, queryset):
        queryset = queryset.select_related("worker", "union").prefetch_related(
            "categories", "disbursements"
        )
        for app in queryset.iterator(chunk_size=2000):
            payouts = list(app.disbursements.all())
            paid = [
                max(p.paid_on for p in payouts) if payouts else "",
                sum(p.amount for p in payouts) if payouts else "",
                "、".join(dict.fromkeys(FUND_SOURCE_WORDS[p.fund_source] for p in payouts)),
                "、".join(p.voucher_no for p in payouts if p.voucher_no),
                "；".join(p.notes for p in payouts if p.notes),
            ]
            yield [*self.case_cells(app), *paid]


class PayoutExportResource(LedgerExportResource):
    """The ledger proper: one row per payout with its case."""

    display_name = gettext_lazy("Ledger (one row per payout)")

    def rows(self, queryset):
        payouts = (
            Disbursement.objects.filter(application__in=queryset.values("pk"))
            .select_related("application__worker", "application__union")
            .prefetch_related("application__categories")
            .order_by("paid_on", "pk")
        )
        for p in payouts.iterator(chunk_size=2000):
            yield [
                *self.case_cells(p.application),
                p.paid_on,
                p.amount,
                FUND_SOURCE_WORDS[p.fund_source],
                p.voucher_no,
                p.notes,
            ]


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

    def get_data_for_export(self, request, queryset, **kwargs):
        dataset = super().get_data_for_export(request, queryset, **kwargs)
        resource = self.choose_export_resource_class(kwargs.get("export_form"), request)
        self.record_export(request, resource, dataset, kwargs.get("export_form"))
        return dataset

    def record_export(self, request, resource_class, dataset, export_form=None) -> None:
        """An export holding full ID numbers goes into the access log (before it is sent)."""
        if not issubclass(resource_class, LedgerExportResource):
            return
        if not access.may_see_full(request.user, access.ID_NUMBER):
            return
        access.record(
            request,
            AccessKind.FULL_EXPORT,
            detail=f"admin {self.model._meta.model_name}: {resource_class.get_display_name()}, "
            f"{len(dataset)} rows",
        )

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
        key = import_staging.stage(
            request,
            upload.read(),
            model=self.model._meta.label,
            name=upload.name,
            resource=self._resource_index(import_form.cleaned_data.get("resource")),
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
        except import_staging.StagedImportMissing:
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

    def process_result(self, result, request):
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
        dataset = resource_class(user=request.user).export(queryset)
        self.record_export(request, resource_class, dataset)
        data = file_format.export_data(dataset)
        response = HttpResponse(data, content_type=file_format.get_content_type())
        filename = self.get_export_filename(request, queryset, file_format)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

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
