"""``linli bench-import --rows N``: roster import speed against the plain-insert floor."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from linli.people import bench_import


class Command(BaseCommand):
    help = "Benchmark the roster import against a plain bulk insert of the same rows."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--rows", type=int, default=100_000)
        parser.add_argument("--workers", type=int, default=None)
        parser.add_argument(
            "--create-places",
            action="store_true",
            help="Let the import create the places instead of laying them out first.",
        )
        parser.add_argument("--out", default=str(Path(settings.VAR_DIR) / "bench-import.json"))

    def handle(self, *args: Any, **options: Any) -> None:
        report = bench_import.run(
            options["rows"],
            options["out"],
            workers=options["workers"],
            create_places=options["create_places"],
        )
        self.stdout.write(json.dumps(report, indent=1, ensure_ascii=False))
        self.stdout.write(
            f"import {report['import']['rows_per_s']} rows/s, floor "
            f"{report['floor']['rows_per_s']} rows/s, ratio {report['ratio']}"
        )
