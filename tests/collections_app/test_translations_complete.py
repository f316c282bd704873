"""Every translatable string in the templates and the Python code has a Simplified Chinese translation."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
CATALOGUE = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
# Build output, tooling and the catalogue itself are not sources of messages.
NOT_SOURCES = (".venv", ".git", "locale", "staticfiles", "node_modules", "var", "media", "htmlcov", "__pycache__")


def extract_messages(workdir: Path) -> Path:
    """Run `makemessages` over a copy of the sources, so the real catalogue is never touched."""
    copy = workdir / "src"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(*NOT_SOURCES, "*.sqlite3*"))
    env = {**os.environ, "SECRET_KEY": "extract-only", "DEBUG": "0"}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "manage.py", "makemessages", "--locale", "zh_Hans", "--no-obsolete", "-v", "0"],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"makemessages failed (is gettext installed?):\n{result.stderr}"
    return copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def test_every_msgid_has_a_non_empty_zh_hans_translation(tmp_path: Path) -> None:
    assert shutil.which("msgcmp"), "gettext's msgcmp is missing: install gettext (`make messages` does)."
    assert CATALOGUE.exists(), f"{CATALOGUE.relative_to(ROOT)} is missing: run makemessages -l zh_Hans and translate."
    extracted = extract_messages(tmp_path)
    # msgcmp reports each msgid of the extracted template that the catalogue lacks, leaves empty or marks fuzzy.
    result = subprocess.run(  # noqa: S603 - fixed arguments
        ["msgcmp", str(CATALOGUE), str(extracted)],  # noqa: S607 - gettext from PATH
        capture_output=True,
        text=True,
        check=False,
    )
    problems = [_describe(line) for line in result.stderr.splitlines() if "warning:" not in line]
    problems = [problem for problem in problems if problem]
    assert result.returncode == 0, (
        f"{len(problems)} message(s) lack a zh_Hans translation in {CATALOGUE.relative_to(ROOT)}:\n"
        + "\n".join(problems[:80])
    )


def _describe(line: str) -> str:
    """`file:line: problem` from msgcmp, with the msgid found at that line."""
    match = re.match(r"^(.+?):(\d+): (.+)$", line)
    if match is None:
        return ""
    path, number, problem = Path(match[1]), int(match[2]), match[3]
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    # msgcmp points at the entry's msgstr or msgid line; the msgid is the nearest one at or above it.
    index = min(number, len(lines)) - 1
    while index >= 0 and not lines[index].startswith("msgid "):
        index -= 1
    msgid = lines[index] if index >= 0 else "?"
    return f"  {msgid}  ({problem})"
