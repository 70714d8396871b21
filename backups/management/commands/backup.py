from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from backups.errors import BackupError
from backups.procedures import create_backup, prune
from backups.reporting import as_command_error, summary
from config.commands import ProjectCommand
from config.storage import describe, is_local


def positive(value: str) -> int:
    from argparse import ArgumentTypeError

    if not value.isdigit() or int(value) < 1:
        raise ArgumentTypeError(
            _("must be a whole number of at least 1, not %(value)s") % {"value": value}
        )
    return int(value)


class Command(ProjectCommand):
    requires_system_checks = []
    help = gettext_lazy(
        "Back up the database (PostgreSQL: pg_dump --format=custom; SQLite: its backup API) "
        "and the media folder (attachments) into a new folder relief-YYYYMMDD-HHMMSS inside "
        "the given folder, with a manifest of row counts, money totals per fund account and per "
        "case, and a SHA-256 of every file. The backup is read back and checked before it gets its "
        "name. It holds personal data: it is readable by its owner only (mode 0700/0600)."
    )
    examples = [
        ("python manage.py backup /var/backups/relief", gettext_lazy("one backup")),
        (
            "python manage.py backup /var/backups/relief --keep 14",
            gettext_lazy("nightly from cron: keep the newest 14 backups, delete older ones"),
        ),
    ]

    def add_arguments(self, parser):
        parser.add_argument(
            "folder",
            help=gettext_lazy("the folder to write the backup into (created if absent)"),
        )
        parser.add_argument(
            "--keep",
            type=positive,
            metavar="N",
            help=gettext_lazy(
                "after a successful backup, delete all but the newest N backups in the folder"
            ),
        )
        parser.add_argument(
            "--media-root",
            metavar="DIR",
            help=gettext_lazy("the media folder to back up (default: MEDIA_ROOT)"),
        )

    def handle(self, *args, folder, keep, media_root, **options):
        if media_root or is_local(default_storage):
            media, bucket = Path(media_root or settings.MEDIA_ROOT), ""
        else:  # MEDIA_STORAGE=s3: the database only (create_backup says why)
            media, bucket = None, describe(default_storage)
        try:
            outcome = create_backup(folder=Path(folder), media_root=media, bucket=bucket)
        except BackupError as exc:
            raise as_command_error(self, exc) from exc
        except OSError as exc:
            raise as_command_error(
                self,
                BackupError(
                    _("Cannot write the backup into %(folder)s (%(reason)s).")
                    % {"folder": folder, "reason": exc.strerror or exc}
                ),
            ) from exc
        for note in outcome.notes:
            self.stderr.write(_("Warning: %(note)s") % {"note": note})
        self.say(_("Backup written to %(path)s") % {"path": outcome.path})
        self.say(summary(outcome.manifest))
        if keep:
            for old in prune(Path(folder), keep):
                self.say(_("Deleted the older backup %(path)s") % {"path": old})
