"""``linli rotate-keys``: re-encrypt every encrypted value with the current field key.

Rotation: put a new key first in ``LINLI_FIELD_KEYS`` (keep the old ones after it), restart, run
this command, then drop the old keys. Values are re-encrypted in batches, each in its own
transaction; a batch only touches values not yet under the current key, so the command can be
stopped and run again at any time. Blind indexes do not change (the index key is not rotated).
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from linli.core import audit
from linli.core.crypto import SEPARATOR, EncryptedTextField, keyring


def encrypted_columns() -> list[tuple[str, str, str]]:
    """(table, primary key column, column) of every encrypted field, history tables included."""
    found = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedTextField):
                found.append((model._meta.db_table, model._meta.pk.column, field.column))
    return sorted(set(found))


def rotate(batch: int = 2000) -> dict[str, int]:
    ring = keyring()
    prefix = ring.current + SEPARATOR
    counts: dict[str, int] = {}
    qn = connection.ops.quote_name
    for table, pk, column in encrypted_columns():
        done = 0
        last = None
        while True:
            with transaction.atomic(), connection.cursor() as cursor:
                where = f"{qn(column)} <> '' AND {qn(column)} NOT LIKE %s"
                params: list[Any] = [prefix + "%"]
                if last is not None:
                    where += f" AND {qn(pk)} > %s"
                    params.append(last)
                cursor.execute(
                    f"SELECT {qn(pk)}, {qn(column)} FROM {qn(table)} WHERE {where} "  # noqa: S608
                    f"ORDER BY {qn(pk)} LIMIT {int(batch)}",
                    params,
                )
                rows = cursor.fetchall()
                if not rows:
                    break
                cursor.executemany(
                    f"UPDATE {qn(table)} SET {qn(column)} = %s WHERE {qn(pk)} = %s",  # noqa: S608
                    [(ring.encrypt(ring.decrypt(value)), key) for key, value in rows],
                )
                done += len(rows)
                last = rows[-1][0]
        counts[f"{table}.{column}"] = done
    return counts


class Command(BaseCommand):
    help = "Re-encrypt personal data with the current key (see docs/privacy.md)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--batch", type=int, default=2000)

    def handle(self, *args: Any, **options: Any) -> None:
        counts = rotate(options["batch"])
        with transaction.atomic():
            audit.record(None, "keys.rotate", data={"current": keyring().current, **counts})
        for name, n in counts.items():
            self.stdout.write(f"{name}: {n} re-encrypted")
        self.stdout.write(f"All values are under key {keyring().current}.")
