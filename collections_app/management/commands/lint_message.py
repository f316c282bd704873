"""`manage.py lint_message`: run the content firewall on a text and list what it must not say."""

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from collections_app.messaging.firewall.lint import AUDIENCES, lint_message
from collections_app.messaging.firewall.modes import PROFILES, UnknownProfileError, firewall_profile_get

# Matched text goes on one line whatever it holds, so a finding spanning a line break stays one record.
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


class Command(BaseCommand):
    """Exit 0 when the text is clean, 1 with one line per finding, 2 on a usage error."""

    help = (
        "Run the content firewall on TEXT ('-' reads standard input). Exit 0 when clean; exit 1 and print one "
        "line per finding, sorted by start: category<TAB>start<TAB>end<TAB>matched text (0-based code-point "
        "offsets, end excluded; tabs, line breaks and backslashes in the matched text are escaped); exit 2 on a "
        "usage error."
    )
    # A pure check: it needs neither the database nor the system checks.
    requires_system_checks: list[str] = []
    # Lets call_command hand in a stream to read for '-'.
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        """TEXT, the audience and the jurisdiction profile."""
        parser.add_argument("text", metavar="TEXT", help="the message text, or '-' to read standard input")
        parser.add_argument("--audience", default="family", help=f"one of {', '.join(AUDIENCES)} (default: family)")
        parser.add_argument(
            "--profile", default="cn-default", help=f"firewall profile: {', '.join(PROFILES)} (default: cn-default)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Lint the text; print the findings and exit 1 if there are any."""
        audience = options["audience"]
        if audience not in AUDIENCES:
            raise CommandError(f"unknown audience {audience!r}; expected one of {', '.join(AUDIENCES)}", returncode=2)
        try:
            profile = firewall_profile_get(options["profile"])
        except UnknownProfileError as exc:
            raise CommandError(
                f"unknown profile {options['profile']!r}; known profiles: {', '.join(PROFILES)}", returncode=2
            ) from exc

        text = options["text"]
        if text == "-":
            text = (options.get("stdin") or sys.stdin).read()
            # The newline a shell or editor adds after the last line is not part of the message.
            text = text.removesuffix("\n").removesuffix("\r")

        findings = lint_message(text, audience=audience, profile=profile)
        if not findings:
            if options["verbosity"] >= 1:
                self.stderr.write("clean")
            return
        for finding in findings:
            self.stdout.write(f"{finding.category}\t{finding.start}\t{finding.end}\t{finding.text.translate(_ESCAPES)}")
        self.stdout.flush()
        sys.exit(1)
