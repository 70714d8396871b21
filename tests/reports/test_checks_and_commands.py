import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from reports import checks
from tests.reports.pdfcheck import pages_text


def test_no_warning_on_a_machine_set_up_by_the_readme():
    assert checks.pdf_prerequisites() == []


def test_warns_without_a_cjk_font(monkeypatch):
    monkeypatch.setattr(checks, "cjk_fonts", lambda: [])
    assert [w.id for w in checks.pdf_prerequisites()] == ["reports.W001"]


def test_warns_when_the_named_family_is_missing(monkeypatch):
    monkeypatch.setattr(checks, "cjk_fonts", lambda: ["WenQuanYi Micro Hei"])
    assert [w.id for w in checks.pdf_prerequisites()] == ["reports.W002"]


def test_warns_when_the_monospaced_face_is_missing(monkeypatch):
    monkeypatch.setattr(checks, "cjk_fonts", lambda: ["Noto Sans CJK SC", "Noto Serif CJK SC"])
    assert [w.id for w in checks.pdf_prerequisites()] == ["reports.W004"]


def test_warns_without_harfbuzz_subset(monkeypatch):
    monkeypatch.setattr(checks, "has_harfbuzz_subset", lambda: False)
    assert [w.id for w in checks.pdf_prerequisites()] == ["reports.W003"]


def test_payout_report_command(tree, payouts, tmp_path, capsys):
    out = tmp_path / "nh.pdf"
    call_command("payout_report", "--unit", "NH", "--from", "2022", "--to", "2024", "-o", out)
    text = "\n".join(pages_text(out.read_bytes()))
    assert "32,000.00" in text
    printed = capsys.readouterr()
    assert "发放 6 笔" in printed.out
    assert "[" not in printed.err  # no progress bar when stderr is not a terminal


@pytest.mark.parametrize(
    "args",
    [
        ["--unit", "NOPE", "--year", "2023"],
        ["--unit", "NH"],
        ["--unit", "NH", "--year", "2023", "--from", "2022"],
        ["--unit", "NH", "--from", "2024", "--to", "2022"],
    ],
)
def test_payout_report_command_refuses_bad_arguments(tree, tmp_path, args):
    with pytest.raises(CommandError):
        call_command("payout_report", *args, "-o", tmp_path / "x.pdf")


def test_worker_statement_command(payouts, tmp_path, capsys):
    out = tmp_path / "w.pdf"
    call_command("worker_statement", "--id-number", payouts.w1.id_number, "-o", out)
    assert "14,000.00" in "\n".join(pages_text(out.read_bytes()))
    assert "发放 4 笔，合计 14,000.00 元" in capsys.readouterr().out
    with pytest.raises(CommandError):
        call_command("worker_statement", "--id-number", "110101199003074514", "-o", out)


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_payout_report_draws_progress_only_on_a_terminal_and_nothing_at_verbosity_0(
    tree, payouts, tmp_path
):
    args = ["payout_report", "--unit", "NH", "--year", "2024", "-o", tmp_path / "nh.pdf"]
    out, err = io.StringIO(), Terminal()
    call_command(*args, stdout=out, stderr=err)
    assert "\r行数 [" in err.getvalue()
    assert "100%" in err.getvalue()
    assert "\r" not in out.getvalue()  # the bar never lands in the piped output
    out, err = io.StringIO(), Terminal()
    call_command(*args, "--verbosity", "0", stdout=out, stderr=err)
    assert (out.getvalue(), err.getvalue()) == ("", "")
    assert (tmp_path / "nh.pdf").stat().st_size > 0


def test_worker_statement_draws_progress_only_on_a_terminal_and_nothing_at_verbosity_0(
    payouts, tmp_path
):
    args = ["worker_statement", "--id-number", payouts.w1.id_number, "-o", tmp_path / "w.pdf"]
    err = Terminal()
    call_command(*args, stdout=io.StringIO(), stderr=err)
    assert "\r明细 [" in err.getvalue()
    piped = io.StringIO()
    call_command(*args, stdout=io.StringIO(), stderr=piped)
    assert piped.getvalue() == ""
    out, err = io.StringIO(), Terminal()
    call_command(*args, verbosity=0, stdout=out, stderr=err)
    assert (out.getvalue(), err.getvalue()) == ("", "")
