"""No personal data in application logs (ASVS 16.2.5; reliability-security S16).

Application logs are not the audit trail: they go to the console, a journal, a log shipper, people
debugging. The code logs no record content in the first place (ids and reason codes only); this
filter, installed on every handler in `settings.LOGGING`, is the second line: it masks what looks
like a phone number, an e-mail address or a long run of digits (SSN, card, case file numbers) in
the message and its arguments before any handler writes it. A traceback keeps its frames and the
exception's type but not the exception's message: messages carry values (a database error quotes
the row it refused, a validation error the input) that no pattern can recognise as a name or a note.

Names and free text cannot be recognised by a pattern; that is why nothing logs them (tests/web/
test_hardening.py drives an intake with marker values through the API and checks the log).
"""

from __future__ import annotations

import logging
import re
import traceback
from types import TracebackType

MASK = "[redacted]"
WITHHELD = "[message withheld from the log]"

_PATTERNS = (
    re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),  # e-mail
    # North American numbers in their usual spellings: (612) 555-0142, 612.555.0142, +1 612 555 0142
    re.compile(r"(?<![\w-])(?:\+?1[\s.-]?)?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}(?![\w-])"),
    re.compile(r"\+\d{8,15}\b"),  # E.164 elsewhere
    re.compile(r"\b\d{3}-\d{2}-\d{4}\b"),  # SSN
    re.compile(r"\d{7,}"),  # long digit runs
)


def redact(text: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(MASK, text)
    return text


def _exception_lines(exc: BaseException, seen: set[int]) -> list[str]:
    """Like traceback.format_exception, with each exception's message replaced by WITHHELD."""
    seen.add(id(exc))
    lines: list[str] = []
    if exc.__cause__ is not None and id(exc.__cause__) not in seen:
        lines += _exception_lines(exc.__cause__, seen)
        lines.append("\nThe above exception was the direct cause of the following exception:\n\n")
    elif exc.__context__ is not None and not exc.__suppress_context__ and id(exc.__context__) not in seen:
        lines += _exception_lines(exc.__context__, seen)
        lines.append("\nDuring handling of the above exception, another exception occurred:\n\n")
    tb: TracebackType | None = exc.__traceback__
    if tb is not None:
        lines.append("Traceback (most recent call last):\n")
        lines += traceback.format_list(traceback.extract_tb(tb))
    kind = type(exc)
    name = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
    lines.append(f"{name}: {WITHHELD}\n")
    return lines


def format_exception(exc: BaseException) -> str:
    return redact("".join(_exception_lines(exc, set())).rstrip("\n"))


class RedactPersonalData(logging.Filter):
    """Masks phone numbers, e-mail addresses and long digit runs; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the record, nor leak its arguments
            message = str(record.msg)
        record.msg, record.args = redact(message), None
        if record.exc_info and record.exc_info[1] is not None:
            # Formatters use exc_text when it is set, so the exception's own text is never written.
            record.exc_text = format_exception(record.exc_info[1])
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
