"""Every management command of the project, as an operator meets it on the command line.

The commands are discovered (django.core.management.get_commands(), kept to the project's own
apps), not listed: a new command that hands argparse a lazy help text, leaves an option
undescribed or untranslated, or has no examples fails here. The commands run in-process through
ManagementUtility, exactly as manage.py runs them (argv parsing, --help's SystemExit, one-line
errors on stderr); one test starts a real process to check the exit status end to end.
"""

import io
import os
import re
import subprocess
import sys
from argparse import SUPPRESS
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import (
    ManagementUtility,
    call_command,
    get_commands,
    load_command_class,
)
from django.core.management.base import CommandError
from django.utils import translation

from config.commands import ProjectCommand, display_width, wrap
from unions.demo import UNIONS_FILE

CJK = re.compile(r"[\u4e00-\u9fff]")


def project_apps() -> set[str]:
    """Apps whose code lives in this repository (not in site-packages, e.g. django_tasks_db)."""
    base = Path(settings.BASE_DIR).resolve()
    return {
        config.name
        for config in apps.get_app_configs()
        if Path(config.path).resolve().is_relative_to(base)
        and "site-packages" not in Path(config.path).parts
    }


def project_commands() -> dict[str, str]:
    ours = project_apps()
    return {name: app for name, app in get_commands().items() if app in ours}


COMMANDS = sorted(project_commands())


def command(name: str) -> ProjectCommand:
    return load_command_class(project_commands()[name], name)


def run_cli(*argv: str) -> tuple[int, str, str]:
    """`manage.py ARGV...` in this process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    status = 0
    with redirect_stdout(out), redirect_stderr(err):
        try:
            ManagementUtility(["manage.py", *argv]).execute()
        except SystemExit as exit_:
            status = exit_.code or 0
    return status, out.getvalue(), err.getvalue()


def squeeze(text: str) -> str:
    return "".join(text.split())


def option_helps(name: str, language: str) -> dict[str, str]:
    """Each option's help as the formatter prints it (defaults filled in), in `language`."""
    with translation.override(language):
        parser = command(name).create_parser("manage.py", name)
        formatter = parser._get_formatter()
        return {
            "/".join(action.option_strings) or action.dest: str(formatter._expand_help(action))
            for action in parser._actions
            if action.help is not SUPPRESS
        }


@pytest.fixture(autouse=True)
def _default_language():
    # The commands switch language only for their own run; check nothing leaks.
    before = translation.get_language()
    yield
    assert translation.get_language() == before


def test_the_discovery_finds_the_project_commands_and_only_them():
    assert {
        "import_ledger",
        "import_unions",
        "load_demo",
        "payout_report",
        "worker_statement",
        "backup",
        "restore",
        "verify_backup",
    } <= set(COMMANDS)
    assert "db_worker" not in COMMANDS  # django_tasks_db's, not ours
    assert "migrate" not in COMMANDS


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_uses_the_shared_base(name):
    assert isinstance(command(name), ProjectCommand)
    assert command(name).examples, f"{name}: no examples for the end of its help"


@pytest.mark.parametrize("name", COMMANDS)
def test_help_is_chinese_by_default_with_every_option_described_and_examples(name):
    status, out, err = run_cli(name, "--help")
    assert (status, err) == (0, "")
    assert out.startswith(f"用法：manage.py {name} ")
    description = out.split("\n\n")[1]
    assert CJK.search(description), description
    assert "\n选项:\n" in out
    assert "显示本帮助并退出" in out
    for option, text in option_helps(name, "zh-hans").items():
        assert text.strip(), f"{name} {option}: no description"
        assert CJK.search(text), f"{name} {option}: not translated: {text!r}"
        assert squeeze(text) in squeeze(out), f"{name} {option}: not in the help"
        for flag in option.split("/"):
            assert flag in out
    examples = out.split("\n示例：\n")[1]
    assert f"  python manage.py {name}" in examples
    assert CJK.search(examples)  # each example says what it does


@pytest.mark.parametrize("name", COMMANDS)
@pytest.mark.parametrize(
    "argv", [["--help", "--lang", "en"], ["--lang=en", "--help"], ["--lang", "EN-us", "-h"]]
)
def test_help_is_english_with_lang_anywhere_on_the_line(name, argv):
    status, out, err = run_cli(name, *argv)
    assert (status, err) == (0, "")
    assert out.startswith(f"usage: manage.py {name} ")
    assert "\noptions:\n" in out
    assert "show this help and exit" in out
    for option, text in option_helps(name, "en").items():
        assert text.strip() and squeeze(text) in squeeze(out), f"{name} {option}"
    assert "\nExamples:\n  # " in out
    assert f"  python manage.py {name}" in out.split("\nExamples:\n")[1]
    assert "用法" not in out and "选项" not in out and "示例" not in out


@pytest.mark.parametrize("name", COMMANDS)
def test_the_environment_variable_chooses_english_for_a_whole_session(name, monkeypatch):
    monkeypatch.setenv("RELIEF_LANG", "en")
    assert run_cli(name, "--help")[1].startswith("usage:")
    assert run_cli("help", name)[1].startswith("usage:")  # `manage.py help NAME` too
    assert run_cli(name, "--help", "--lang", "zh-hans")[1].startswith("用法：")  # option wins
    monkeypatch.delenv("RELIEF_LANG")
    assert run_cli("help", name)[1].startswith("用法：")


def test_an_unknown_language_is_refused_with_what_to_do():
    status, out, err = run_cli("load_demo", "--lang", "fr")
    assert status == 2
    assert out == ""
    last = err.strip().splitlines()[-1]
    assert "未知语言 'fr'" in last
    assert "zh-hans, en" in last
    assert "运行“manage.py load_demo --help”查看全部选项" in last


def test_a_missing_argument_says_where_to_look():
    status, out, err = run_cli("payout_report", "--unit", "NH")
    assert status == 2
    assert out == ""
    assert err.startswith("用法：manage.py payout_report")
    last = err.strip().splitlines()[-1]
    assert last.startswith("错误：") and "-o/--output" in last
    assert last.endswith("运行“manage.py payout_report --help”查看全部选项。")


def manage_py(tmp_path, *argv) -> subprocess.CompletedProcess:
    """A real `python manage.py ARGV...` on an empty (not migrated) SQLite database."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    env.pop("RELIEF_LANG", None)
    return subprocess.run(
        [sys.executable, "manage.py", *argv],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_failing_command_exits_non_zero_with_one_line_on_stderr_in_a_real_process(tmp_path):
    missing = tmp_path / "no-such-file.csv"
    done = manage_py(tmp_path, "import_unions", str(missing))
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith(f"错误：无法读取 {missing}（")
    assert done.stderr.endswith("：请检查路径和文件权限。\n")


def test_a_database_not_migrated_is_one_line_saying_to_migrate(tmp_path):
    done = manage_py(tmp_path, "worker_statement", "--id-number", "1", "-o", "x.pdf")
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("错误：无法使用数据库（no such table: relief_worker）")
    assert "请检查 DATABASE_URL 并运行“manage.py migrate”" in done.stderr


@pytest.mark.django_db(transaction=True)
def test_a_command_error_is_one_line_on_stderr_and_exit_status_1(tmp_path):
    # In-process like manage.py; transaction=True because manage.py closes the connections.
    status, out, err = run_cli(
        "payout_report", "--unit", "ZZ", "--year", "2024", "-o", str(tmp_path / "x.pdf")
    )
    assert (status, out) == (1, "")
    assert err == "错误：没有代码为 ZZ 的工会：请使用工会树中的代码，如 NH 或 XQ。\n"
    status, out, err = run_cli(
        "payout_report", "--unit", "ZZ", "--year", "2024", "-o", "x.pdf", "--lang", "en"
    )
    assert err == "Error: No union with code ZZ: use a code of the union tree, e.g. NH or XQ.\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["payout_report", "--unit", "NH", "--year", "2024", "-o", "/no/such/folder/x.pdf"],
            "无法写入 /no/such/folder/x.pdf（文件夹不存在或不可写）："
            "请选择一个存在且可写的文件夹。",
        ),
        (
            ["payout_report", "--unit", "NH", "--from", "2024", "--to", "2022", "-o", "x.pdf"],
            "--from 晚于 --to：请把较早的年度给 --from。",
        ),
        (
            ["worker_statement", "--id-number", "110101199003074514", "-o", "x.pdf"],
            "没有这个身份证号的职工：请核对号码，或在管理后台查找该职工。",
        ),
        (
            ["import_unions", "/no/such/unions.csv"],
            "无法读取 /no/such/unions.csv（No such file or directory）：请检查路径和文件权限。",
        ),
    ],
)
def test_errors_say_what_to_do(tree, argv, message):
    with pytest.raises(CommandError) as excinfo:
        call_command(*argv, stdout=io.StringIO(), stderr=io.StringIO())
    assert str(excinfo.value) == message


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_load_demo_is_silent_with_verbosity_0(db):
    out, err = io.StringIO(), Terminal()
    call_command("load_demo", verbosity=0, stdout=out, stderr=err)
    assert (out.getvalue(), err.getvalue()) == ("", "")


def test_load_demo_shows_progress_on_a_terminal_only(db):
    out, err = io.StringIO(), Terminal()
    call_command("load_demo", stdout=out, stderr=err)
    assert "\r账号 [" in err.getvalue()
    assert "18/18 100%" in err.getvalue()
    assert "演示数据已就绪" in out.getvalue()
    assert "\r" not in out.getvalue()
    piped = io.StringIO()
    call_command("load_demo", stdout=io.StringIO(), stderr=piped)
    assert piped.getvalue() == ""


def test_import_unions_is_silent_with_verbosity_0(db):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_unions", str(UNIONS_FILE), verbosity=0, stdout=out, stderr=err)
    assert (out.getvalue(), err.getvalue()) == ("", "")
    call_command("import_unions", str(UNIONS_FILE), stdout=out, stderr=err)
    assert "工会导入完成：新建 0 个，更新 17 个。" in out.getvalue()


def test_wrapping_counts_chinese_characters_as_two_columns():
    text = "从 CSV 或 XLSX 文件导入历史台账，列为：姓名, 身份证号, 基层工会。先检查每一行。"
    lines = wrap(text, 24)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    # Closing punctuation may hang past the width rather than start a line.
    assert all(display_width(line.rstrip("，。")) <= 24 for line in lines)
    assert not any(line.startswith(("，", "。")) for line in lines)
    assert "XLSX" in " ".join(lines)  # a word is never split
