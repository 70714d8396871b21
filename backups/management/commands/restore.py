from pathlib import Path

from django.conf import settings
from django.db import connections
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from backups.databases import Database
from backups.errors import BackupError
from backups.procedures import restore_backup
from backups.reporting import as_command_error, summary
from config.commands import ProjectCommand


class Command(ProjectCommand):
    requires_system_checks = []
    help = gettext_lazy(
        "Restore a backup made by “manage.py backup” into an EMPTY database (a new "
        "PostgreSQL database made with createdb, without migrate; or a new SQLite file) and an "
        "empty media folder; anything else is refused and left untouched. Afterwards every "
        "table's row count, the money per fund account and per case, the database's guards "
        "and every file's SHA-256 are compared with the backup's manifest; any difference "
        "fails the command."
    )
    examples = [
        (
            "createdb -h 127.0.0.1 -U postgres relief_new\n"
            "  DATABASE_URL=postgres://postgres@127.0.0.1/relief_new MEDIA_ROOT=/srv/relief/media "
            "python manage.py restore /var/backups/relief/relief-20250301-020000",
            gettext_lazy("restore on PostgreSQL into a new database"),
        ),
        (
            "python manage.py restore /var/backups/relief/relief-20250301-020000 "
            "--database-url sqlite:////srv/relief/restored.sqlite3 --media-root /srv/relief/media2",
            gettext_lazy("restore a SQLite backup into a new file and folder"),
        ),
    ]

    def add_arguments(self, parser):
        parser.add_argument("archive", help=gettext_lazy("the backup folder to restore"))
        parser.add_argument(
            "--database-url",
            metavar="URL",
            help=gettext_lazy(
                "the empty database to restore into (default: the one DATABASE_URL names)"
            ),
        )
        parser.add_argument(
            "--media-root",
            metavar="DIR",
            help=gettext_lazy("the empty media folder to restore into (default: MEDIA_ROOT)"),
        )

    def handle(self, *args, archive, database_url, media_root, **options):
        try:
            if database_url:
                target = Database.from_url(database_url)
            else:
                target = Database.from_settings(connections["default"].settings_dict)
            if target.vendor == "sqlite" and (
                target.name.startswith("file:") or target.name == ":memory:"
            ):
                raise BackupError(_("Restore needs a database file, not an in-memory database."))
            outcome = restore_backup(
                archive=Path(archive),
                target=target,
                media_root=Path(media_root or settings.MEDIA_ROOT),
            )
        except BackupError as exc:
            raise as_command_error(self, exc) from exc
        self.say(
            _("Restored %(path)s into %(db)s; it matches the backup's manifest.")
            % {"path": outcome.path, "db": target.label}
        )
        self.say(summary(outcome.manifest))
        for note in outcome.notes:
            self.say(note)
