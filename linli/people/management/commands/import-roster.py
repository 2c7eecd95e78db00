"""``linli import-roster FILE --community CODE``: import a roster file, all or nothing."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from linli.people.importer import ImportFailed, import_roster, report_lines


class Command(BaseCommand):
    help = "Import a roster (.xlsx or .csv) into one community; nothing is written if a row is bad."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file")
        parser.add_argument("--community", required=True, help="the community's 12-digit code")
        parser.add_argument("--create-places", action="store_true")
        parser.add_argument("--dry-run", action="store_true")
        parser.add_argument("--workers", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = import_roster(
                options["file"],
                community_code=options["community"],
                create_places=options["create_places"],
                dry_run=options["dry_run"],
                workers=options["workers"],
            )
        except (ImportFailed, OSError) as exc:
            raise CommandError(str(exc)) from exc
        for issue in result.warnings:
            self.stderr.write(
                _("Row %(row)s, %(column)s: %(message)s")
                % {"row": issue.row, "column": issue.column, "message": issue.message}
            )
        for line in report_lines(result):
            self.stderr.write(line)
        counts = _(
            "%(rows)s rows: %(created)s new, %(updated)s changed, %(unchanged)s unchanged,"
            " %(places)s places created."
        ) % {
            "rows": result.rows,
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "places": result.places_created,
        }
        if not result.ok:
            raise CommandError(
                _("%(n)s problems found; nothing was imported.") % {"n": result.error_count}
            )
        if result.dry_run:
            self.stdout.write(_("Dry run, nothing written: %(counts)s") % {"counts": counts})
        else:
            self.stdout.write(counts)
