"""The published API keeps its operations: the same paths, methods and operation ids as the list
in ``tests/data/openapi_operations.txt``, so that an app's API can be split into modules by
resource (or moved) without clients generated from the schema noticing. A new endpoint is added to
the list in the same change."""

from __future__ import annotations

from pathlib import Path

from linli.api import api

STORED = Path(__file__).parent / "data" / "openapi_operations.txt"


def published() -> list[str]:
    schema = api.get_openapi_schema()
    return sorted(
        f"{method.upper()} {path} {operation['operationId']}"
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
    )


def test_the_published_operations_are_the_stored_ones():
    assert published() == STORED.read_text().splitlines()


def test_operation_ids_are_unique():
    ids = [row.rsplit(" ", 1)[1] for row in published()]
    assert len(ids) == len(set(ids))
