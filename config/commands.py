"""The shared base of the project's management commands (`manage.py import_ledger` etc.).

What every command gets from `ProjectCommand`, so that an operator meets them all alike:

- Help in the operator's language: Chinese by default, English with `--lang en` (anywhere on
  the command line, also together with `--help`) or with the environment variable
  `RELIEF_LANG=en` (for a whole shell session, and for `manage.py help NAME`). Help texts may be
  lazy translations: the formatter turns them into text when it prints, in the language then
  active (argparse itself cannot handle Django's lazy strings and crashed with
  "expected string or bytes-like object, got '__proxy__'").
- Django's own options (--verbosity, --traceback ...) and argparse's headings described in the
  same language, and an "Examples" section at the end (`examples`), kept line by line.
- Errors: one line on stderr, "错误：<what is wrong and what to do>", and a non-zero exit
  status; bad arguments also name `--help`.
- `say()` writes to stdout unless `--verbosity 0`; `progress()` gives a progress bar drawn on
  stderr only when stderr is a terminal (like git: nothing lands in a pipe or a log file) and
  verbosity is at least 1.
"""

import contextlib
import os
import re
import sys
import time
import unicodedata
from argparse import SUPPRESS, ArgumentTypeError
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import (
    BaseCommand,
    CommandError,
    CommandParser,
    DjangoHelpFormatter,
    SystemCheckError,
    handle_default_options,
)
from django.db import DatabaseError, connections
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

LANGUAGE_VARIABLE = "RELIEF_LANG"

# Help of the options every Django command has, which Django leaves untranslated.
BASE_OPTION_HELP = {
    "help": gettext_lazy("show this help and exit"),
    "version": gettext_lazy("show the Django version and exit"),
    "verbosity": gettext_lazy(
        "how much to print: 0 nothing on success, 1 normal (default), 2 and 3 more detail"
    ),
    "settings": gettext_lazy(
        "the Python path of a settings module (default: the DJANGO_SETTINGS_MODULE "
        "environment variable)"
    ),
    "pythonpath": gettext_lazy("a directory to add to the Python path"),
    "traceback": gettext_lazy("show the full Python traceback when the command fails"),
    "no_color": gettext_lazy("do not colour the output"),
    "force_color": gettext_lazy("colour the output even when it is not a terminal"),
    "skip_checks": gettext_lazy("skip the system checks"),
    "lang": gettext_lazy(
        "language of help and messages: zh-hans (default) or en; "
        "the environment variable RELIEF_LANG does the same"
    ),
}


def language_code(value: str) -> str:
    """A language of settings.LANGUAGES for `value` (zh, zh-cn, zh-hans, en, en-us ...)."""
    try:
        return translation.get_supported_language_variant(value.strip().lower())
    except LookupError:
        choices = ", ".join(code for code, _name in settings.LANGUAGES)
        raise ArgumentTypeError(
            _("unknown language %(value)r: use one of %(choices)s")
            % {"value": value, "choices": choices}
        ) from None


def command_line_language(argv: list[str]) -> str:
    """The language asked for by `--lang X` / `--lang=X`, else RELIEF_LANG, else the default."""
    wanted = None
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            wanted = argv[i + 1]
        elif arg.startswith("--lang="):
            wanted = arg.partition("=")[2]
    for value in (wanted, os.environ.get(LANGUAGE_VARIABLE)):
        if value:
            try:
                return language_code(value)
            except ArgumentTypeError:
                pass  # the parser reports a bad --lang; a bad variable falls back
    return settings.LANGUAGE_CODE


# One piece for line breaking: a run of spaces, one CJK character (a line may break after any
# of them) or a run of other characters (a word, an option, a path: never broken).
_CJK = "\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
_PIECE = re.compile(rf"\s+|[{_CJK}]|[^\s{_CJK}]+")
# Closing punctuation stays on the line of the character before it.
_NO_LINE_START = set("，。、；：！？）」』》〉”’")


def display_width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def wrap(text: str, width: int) -> list[str]:
    """Break `text` into lines of at most `width` columns (CJK-aware, unlike textwrap)."""
    width = max(width, 20)
    lines, line, used = [], "", 0
    for piece in _PIECE.findall(text):
        if piece.isspace():
            if line:
                line, used = line + " ", used + 1
            continue
        size = display_width(piece)
        if line.strip() and used + size > width and piece not in _NO_LINE_START:
            lines.append(line.rstrip())
            line, used = "", 0
        line, used = line + piece, used + size
    if line.strip():
        lines.append(line.rstrip())
    return lines


def unreadable_file(path, exc: OSError) -> CommandError:
    """The one-line error for an input file that cannot be opened."""
    return CommandError(
        _("Cannot read %(path)s (%(reason)s): check the path and the file's permissions.")
        % {"path": path, "reason": exc.strerror or exc}
    )


def unwritable_file(path, exc: OSError) -> CommandError:
    return CommandError(
        _("Cannot write %(path)s (%(reason)s): choose a folder that exists and is writable.")
        % {"path": path, "reason": exc.strerror or exc}
    )


def check_output_path(path) -> None:
    """Refuse an output file that cannot be written before spending time on its content."""
    folder = Path(path).resolve().parent
    if Path(path).is_dir() or not folder.is_dir() or not os.access(folder, os.W_OK):
        reason = _("is a folder") if Path(path).is_dir() else _("no writable folder")
        raise CommandError(
            _("Cannot write %(path)s (%(reason)s): choose a folder that exists and is writable.")
            % {"path": path, "reason": reason}
        )


class ProjectHelpFormatter(DjangoHelpFormatter):
    """Django's option order; lazy texts; lines written in a text are kept; CJK-aware wrap."""

    show_last = DjangoHelpFormatter.show_last | {"--lang"}

    def _fill_text(self, text, width, indent):
        # Unindented lines are paragraphs, wrapped; indented lines (the examples) are kept as
        # written, so that a command line can be copied whole.
        lines = []
        for line in str(text).splitlines():
            if line[:1].isspace() or not line:
                lines.append((indent + line).rstrip())
            else:
                lines.extend(indent + part for part in wrap(line, width - len(indent)))
        return "\n".join(lines)

    def _split_lines(self, text, width):
        return [part for line in str(text).splitlines() for part in wrap(line, width) or [""]]

    def add_usage(self, usage, actions, groups, prefix=None):
        if prefix is None:
            prefix = _("usage: ")
        super().add_usage(usage, actions, groups, prefix)


class ProjectParser(CommandParser):
    def error(self, message):
        if not self.called_from_command_line:
            super().error(message)  # raises CommandError for call_command()
        self.print_usage(sys.stderr)
        self.exit(
            2,
            _("Error: %(message)s. Run “%(prog)s --help” to see every option.\n")
            % {"message": message, "prog": self.prog},
        )


class ProjectCommand(BaseCommand):
    """Base class of every management command of this project (see the module docstring)."""

    # (command line, what it does): shown as the "Examples" section at the end of the help.
    examples: list = []

    def create_parser(self, prog_name, subcommand, **kwargs):
        kwargs.setdefault("formatter_class", ProjectHelpFormatter)
        kwargs.setdefault("epilog", self.examples_text())
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        # Django builds a plain CommandParser; ours only changes how bad arguments are told.
        parser.__class__ = ProjectParser
        parser.add_argument(
            "--lang", type=language_code, metavar="LANG", help=BASE_OPTION_HELP["lang"]
        )
        parser._positionals.title = gettext_lazy("positional arguments")
        parser._optionals.title = gettext_lazy("options")
        for action in parser._actions:
            if action.dest in BASE_OPTION_HELP and action.help is not SUPPRESS:
                action.help = BASE_OPTION_HELP[action.dest]
        return parser

    def examples_text(self) -> str | None:
        if not self.examples:
            return None
        lines = [_("Examples:")]
        for command_line, comment in self.examples:
            lines.append(f"  # {comment}")
            lines.append(f"  {command_line}")
        return "\n".join(lines)

    def print_help(self, prog_name, subcommand):
        # `manage.py help NAME` comes here without run_from_argv: RELIEF_LANG decides.
        with translation.override(command_line_language([])):
            super().print_help(prog_name, subcommand)

    def run_from_argv(self, argv):
        """Django's run_from_argv, in the chosen language, with errors told in one line."""
        self._called_from_command_line = True
        with translation.override(command_line_language(argv[2:])):
            parser = self.create_parser(argv[0], argv[1])
            options = parser.parse_args(argv[2:])
            cmd_options = vars(options)
            args = cmd_options.pop("args", ())
            handle_default_options(options)
            try:
                self.execute(*args, **cmd_options)
            except BrokenPipeError:
                # `manage.py load_demo | head`: the reader has gone; stop without a traceback
                # (stdout goes to /dev/null so that the interpreter's final flush is quiet).
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                sys.exit(1)
            except DatabaseError as exc:
                # Typically a new installation before `migrate`, or a wrong DATABASE_URL.
                if options.traceback:
                    raise
                self.stderr.write(
                    _(
                        "Error: the database cannot be used (%(error)s): check DATABASE_URL and "
                        "run “manage.py migrate”; --traceback shows the details."
                    )
                    % {"error": str(exc).strip().splitlines()[0] if str(exc).strip() else exc}
                )
                sys.exit(1)
            except CommandError as exc:
                if options.traceback:
                    raise
                if isinstance(exc, SystemCheckError):
                    self.stderr.write(str(exc), lambda x: x)
                else:
                    self.stderr.write(_("Error: %(message)s") % {"message": exc})
                sys.exit(exc.returncode)
            finally:
                with contextlib.suppress(ImproperlyConfigured):
                    connections.close_all()

    def execute(self, *args, **options):
        self.verbosity = options.get("verbosity", 1)
        # Always an explicit language, even when none was activated (call_command): code that
        # uses translation.override() inside (the PDF rendering) would otherwise leave
        # translations switched off, and the rest of the output in English.
        language = options.get("lang") or translation.get_language() or settings.LANGUAGE_CODE
        with translation.override(language):
            return super().execute(*args, **options)

    def say(self, message, style=None) -> None:
        """Write a line to stdout unless --verbosity 0."""
        if self.verbosity >= 1:
            self.stdout.write(style(message) if style else message)

    def progress(self, label: str) -> "ProgressBar":
        return ProgressBar(self.stderr._out, label=label, enabled=self.verbosity >= 1)


class ProgressBar:
    """A one-line progress bar, drawn only when its stream is a terminal."""

    def __init__(self, stream=None, *, label: str = "", width: int = 30, enabled: bool = True):
        self.stream = stream or sys.stderr
        self.enabled = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.label = label
        self.width = width
        self.started = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        fraction = done / total if total else 1.0
        filled = int(self.width * fraction)
        bar = "#" * filled + "-" * (self.width - filled)
        elapsed = time.monotonic() - self.started
        self.stream.write(f"\r{self.label} [{bar}] {done}/{total} {fraction:4.0%} {elapsed:5.1f}s")
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()
