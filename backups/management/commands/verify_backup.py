from pathlib import Path

from django.db import connections
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from backups.databases import Database
from backups.errors import BackupError
from backups.procedures import test_restore, verify_archive
from backups.reporting import as_command_error, summary
from config.commands import ProjectCommand


class Command(ProjectCommand):
    requires_system_checks = []
    help = gettext_lazy(
        "Check a backup made by “manage.py backup”: the database dump and every media file "
        "against the SHA-256 in its manifest, and the dump's contents (SQLite: row counts and "
        "money; PostgreSQL: pg_restore can read it). With --restore-test it is also restored "
        "into a throwaway database and folder, compared with the manifest, and removed."
    )
    examples = [
        (
            "python manage.py verify_backup /var/backups/relief/relief-20250301-020000",
            gettext_lazy("check the files"),
        ),
        (
            "python manage.py verify_backup /var/backups/relief/relief-20250301-020000 "
            "--restore-test",
            gettext_lazy(
                "restore it for real into a throwaway database (PostgreSQL: the account needs "
                "CREATEDB) and compare"
            ),
        ),
    ]

    def add_arguments(self, parser):
        parser.add_argument("archive", help=gettext_lazy("the backup folder to check"))
        parser.add_argument(
            "--restore-test",
            action="store_true",
            help=gettext_lazy(
                "also restore into a throwaway database (on the server DATABASE_URL names) and "
                "compare everything with the manifest"
            ),
        )

    def handle(self, *args, archive, restore_test, **options):
        try:
            outcome = verify_archive(Path(archive))
            if restore_test:
                server = Database.from_settings(connections["default"].settings_dict)
                test_restore(Path(archive), server=server)
        except BackupError as exc:
            raise as_command_error(self, exc) from exc
        if restore_test:
            message = _("The backup %(path)s is intact and restores to the same data.")
        else:
            message = _("The backup %(path)s is intact.")
        self.say(message % {"path": outcome.path})
        self.say(summary(outcome.manifest))
