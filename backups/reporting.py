"""What the backup commands print: a summary of an archive, and every problem found."""

from decimal import Decimal

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from backups.errors import BackupError, VerificationFailed

SHOWN_PROBLEMS = 100


def summary(manifest: dict) -> str:
    files = manifest["media"]["files"]
    money = manifest.get("money", {}).get("totals", {})
    return _(
        "%(tables)d tables, %(rows)d rows, %(accounts)d fund accounts, %(cases)d cases, "
        "payouts %(payouts)s yuan; %(files)d media files (%(megabytes).1f MB); database dump "
        "%(dump_mb).1f MB; made %(created)s."
    ) % {
        "tables": len(manifest["tables"]),
        "rows": sum(manifest["tables"].values()),
        "accounts": len(manifest.get("money", {}).get("fund_accounts", {})),
        "cases": len(manifest.get("money", {}).get("cases", {})),
        "payouts": f"{Decimal(money.get('payouts', '0')):,.2f}",
        "files": len(files),
        "megabytes": sum(f["bytes"] for f in files.values()) / 1e6,
        "dump_mb": manifest["database"]["dump"]["bytes"] / 1e6,
        "created": manifest["created_at"][:19].replace("T", " "),
    }


def as_command_error(command, exc: BackupError) -> CommandError:
    """Print every problem of a failed verification on stderr; the error names the count."""
    if isinstance(exc, VerificationFailed):
        for problem in exc.problems[:SHOWN_PROBLEMS]:
            command.stderr.write(f"  - {problem}")
        if len(exc.problems) > SHOWN_PROBLEMS:
            command.stderr.write(
                _("  … and %(count)d more.") % {"count": len(exc.problems) - SHOWN_PROBLEMS}
            )
        return CommandError(
            _("%(message)s (%(count)d differences, listed above.)")
            % {"message": exc, "count": len(exc.problems)}
        )
    return CommandError(str(exc))
