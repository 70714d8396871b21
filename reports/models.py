import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Generating")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")


class ReportJob(models.Model):
    """A report generated in the background (reports.tasks), with its progress and file.

    Only the user who asked for it sees it; the file is kept through the storage API as
    `storage_name` (reports.files: MEDIA_ROOT/reports or the S3 bucket), which no URL serves,
    and is downloaded through a view that checks that.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=30)
    params = models.JSONField(_("parameters"), default=dict)
    # The unit a report or ledger is about; empty for an admin export (its rows are the
    # admin's selection, whatever the units).
    unit = models.ForeignKey(
        "unions.Union",
        verbose_name=_("union"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    title = models.CharField(_("title"), max_length=200)
    status = models.CharField(
        _("status"), max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED
    )
    rows_done = models.PositiveIntegerField(_("rows done"), default=0)
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    pages = models.PositiveIntegerField(_("pages"), default=0)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("report job")
        verbose_name_plural = _("report jobs")
        ordering = ["-created_at"]

    def __str__(self):
        return self.title

    @property
    def percent(self) -> int:
        if self.status == JobStatus.DONE:
            return 100
        if not self.rows_total:
            return 0
        return min(99, self.rows_done * 100 // self.rows_total)

    @property
    def extension(self) -> str:
        """pdf for reports; xlsx or csv for exports (their params say which)."""
        return self.params.get("format", "pdf")

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.extension]

    @property
    def storage_name(self) -> str:
        """The file's name in default_storage (reports.files)."""
        from reports.files import name_for

        return name_for(self)

    @property
    def file_name(self) -> str:
        return f"{self.title}.{self.extension}"


class ReportJobRow(models.Model):
    """One selected row of an admin export job (reports.admin_exports), in export order.

    The selection is kept as primary keys in a table rather than in the job's params: an
    export may hold every case of the district (300,000 ids, a few MB of JSON that each poll
    of the job page would read), and the worker joins to this table to read the rows in
    order, in chunks, without a 300,000-parameter IN (...).
    """

    job = models.ForeignKey(ReportJob, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField()
    object_id = models.BigIntegerField()

    class Meta:
        verbose_name = _("selected row of an export job")
        verbose_name_plural = _("selected rows of export jobs")
        constraints = [
            models.UniqueConstraint(fields=["job", "position"], name="reportjobrow_job_position")
        ]
        indexes = [models.Index(fields=["job", "object_id"], name="reportjobrow_job_object")]

    def __str__(self):
        return f"{self.job_id} #{self.position}: {self.object_id}"
