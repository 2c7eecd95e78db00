"""What an import reports: the counts, and the problems row by row."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

MAX_REPORTED = 500


class ImportFailed(Exception):
    """The file as a whole cannot be read (wrong type, no header, missing columns)."""


@dataclass(frozen=True)
class RowIssue:
    row: int
    column: str
    message: str


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    places_created: int = 0
    rows: int = 0
    errors: list[RowIssue] = field(default_factory=list)
    error_count: int = 0
    warnings: list[RowIssue] = field(default_factory=list)
    warning_count: int = 0
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    @property
    def committed(self) -> bool:
        return self.ok and not self.dry_run

    def add_error(self, row: int, column: str, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED:
            self.errors.append(RowIssue(row, column, message))

    def add_warning(self, row: int, column: str, message: str) -> None:
        self.warning_count += 1
        if len(self.warnings) < MAX_REPORTED:
            self.warnings.append(RowIssue(row, column, message))

    def counts(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "places_created": self.places_created,
            "errors": self.error_count,
            "warnings": self.warning_count,
        }


def report_lines(result: ImportResult) -> Iterator[str]:
    """The error report as plain lines, for the command line."""
    for issue in result.errors:
        yield _("Row %(row)s, %(column)s: %(message)s") % {
            "row": issue.row,
            "column": issue.column,
            "message": issue.message,
        }
    if result.error_count > len(result.errors):
        yield _("… and %(n)s more.") % {"n": result.error_count - len(result.errors)}
