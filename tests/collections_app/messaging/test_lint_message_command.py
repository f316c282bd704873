"""`manage.py lint_message`: exit codes, the findings format, standard input and usage errors."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

ROOT = Path(__file__).resolve().parents[3]


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    """Call the command in-process; return its exit code, standard output and standard error."""
    out, err = io.StringIO(), io.StringIO()
    options: dict[str, object] = {"stdout": out, "stderr": err}
    if stdin is not None:
        options["stdin"] = io.StringIO(stdin)
    try:
        call_command("lint_message", *args, **options)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def test_clean_text_exits_0_and_prints_nothing_on_stdout() -> None:
    code, out, err = run("请提醒其处理还款事宜，客服电话95188，工作时间8:00至21:00。")
    assert (code, out) == (0, "")
    assert err.strip() == "clean"


def test_clean_text_is_silent_at_verbosity_0() -> None:
    assert run("请于今日联系我们", "--verbosity", "0") == (0, "", "")


def test_findings_exit_1_one_tab_separated_line_each_sorted_by_start() -> None:
    code, out, _ = run("他欠款5000元，逾期45天")
    assert code == 1
    assert out.splitlines() == [
        "debt_disclosure\t1\t3\t欠款",
        "amount\t3\t8\t5000元",
        "debt_disclosure\t9\t11\t逾期",
        "overdue_detail\t9\t14\t逾期45天",
    ]


def test_offsets_count_code_points_not_bytes() -> None:
    text = "您好，身份证110101199003074514"
    code, out, _ = run(text)
    category, start, end, matched = out.rstrip("\n").split("\t")
    assert (code, category, matched) == (1, "identifier", "110101199003074514")
    assert text[int(start) : int(end)] == matched


def test_audience_borrower_allows_amounts_but_not_telling_the_family() -> None:
    assert run("您本期应还1280元，请按时还款", "--audience", "borrower")[0] == 0
    code, out, _ = run("再不还钱就通知你的家人", "--audience", "borrower")
    assert (code, out) == (1, "third_party\t5\t11\t通知你的家人\n")


def test_profile_picks_the_jurisdiction() -> None:
    assert run("请提醒其处理还款事宜", "--profile", "cn-default")[0] == 0
    code, out, _ = run("请提醒其处理还款事宜", "--profile", "us-regf")
    assert (code, out) == (1, "debt_disclosure\t6\t8\t还款\n")


def test_dash_reads_standard_input_without_its_final_newline() -> None:
    code, out, _ = run("-", "--profile", "us-regf", stdin="John owes $50.\n")
    assert code == 1
    assert out.splitlines() == ["debt_disclosure\t5\t9\towes", "amount\t10\t13\t$50"]


def test_line_breaks_and_tabs_in_matched_text_are_escaped() -> None:
    code, out, _ = run("-", "--profile", "us-regf", stdin="It is past\ndue.")
    assert code == 1
    assert out == "debt_disclosure\t6\t14\tpast\\ndue\n"


def test_unknown_profile_is_a_usage_error_with_exit_2() -> None:
    with pytest.raises(CommandError, match="unknown profile 'mars'") as exc:
        call_command("lint_message", "hello", "--profile", "mars")
    assert exc.value.returncode == 2


def test_unknown_audience_is_a_usage_error_with_exit_2() -> None:
    with pytest.raises(CommandError, match="unknown audience 'neighbour'") as exc:
        call_command("lint_message", "hello", "--audience", "neighbour")
    assert exc.value.returncode == 2


def _manage(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - fixed argv, no shell
        [sys.executable, "manage.py", "lint_message", *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )


def test_the_real_process_exits_0_1_and_2() -> None:
    clean = _manage("请于今日联系我们")
    assert (clean.returncode, clean.stdout) == (0, "")
    leaking = _manage("-", stdin="他的借呗逾期了\n")
    assert (leaking.returncode, leaking.stdout) == (1, "product\t2\t4\t借呗\ndebt_disclosure\t4\t6\t逾期\n")
    assert _manage("x", "--profile", "mars").returncode == 2
    assert _manage().returncode == 2
