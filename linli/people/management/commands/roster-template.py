"""``linli roster-template [--out FILE]``: the import template as .xlsx."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from linli.people import exporter


class Command(BaseCommand):
    help = "Write the roster import template (.xlsx)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--out", default="roster-template.xlsx")

    def handle(self, *args: Any, **options: Any) -> None:
        with open(options["out"], "wb") as out:
            exporter.write_template(out)
        self.stdout.write(_("Template written to %(file)s.") % {"file": options["out"]})
