"""``linli compile-catalogues``: compile the .po catalogues to .mo with polib.

Django's ``compilemessages`` needs GNU gettext's msgfmt, which a fresh machine may not have; the
compiled .mo files are committed, and this command (pure Python) refreshes them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polib
from django.conf import settings
from django.core.management.base import BaseCommand


def catalogues() -> list[Path]:
    return sorted(
        po for p in settings.LOCALE_PATHS for po in Path(p).glob("*/LC_MESSAGES/django.po")
    )


class Command(BaseCommand):
    help = "Compile the translation catalogues (.po → .mo) without GNU gettext."

    def handle(self, *args: Any, **options: Any) -> None:
        for po_path in catalogues():
            po = polib.pofile(str(po_path))
            po.save_as_mofile(str(po_path.with_suffix(".mo")))
            self.stdout.write(f"{po_path}: {po.percent_translated()}% translated")
