"""``linli export-roster --place ID --format xlsx|csv --out FILE``: masked unless
``--unmasked --reason "…"``; audited either way."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from linli.people import exporter
from linli.places.models import Place


class Command(BaseCommand):
    help = "Export the roster under a place as .xlsx or .csv (masked unless --unmasked --reason)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--place", type=int, required=True, help="the place's id")
        parser.add_argument("--format", choices=exporter.FORMATS, default="xlsx")
        parser.add_argument("--out", required=True)
        parser.add_argument("--unmasked", action="store_true")
        parser.add_argument("--reason", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        place = Place.objects.filter(pk=options["place"]).first()
        if place is None:
            raise CommandError(_("No place has the id %(id)s.") % {"id": options["place"]})
        try:
            with open(options["out"], "wb") as out:
                count = exporter.export_as_operator(
                    place,
                    out,
                    options["format"],
                    unmasked=options["unmasked"],
                    reason=options["reason"],
                )
        except ValidationError as exc:
            raise CommandError(exc.messages[0]) from exc
        self.stdout.write(
            _("%(n)s residents written to %(file)s.") % {"n": count, "file": options["out"]}
        )
