"""Calling the API from a test: a JSON body for every method, a client reading in English."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client


def send(client: Client, method: str, url: str, body: Any = None) -> Any:
    """``client.<method>(url)`` with ``body`` as JSON (a GET sends none)."""
    if method == "get":
        return client.get(url)
    return getattr(client, method)(
        url, data=json.dumps(body or {}), content_type="application/json"
    )


def english(user: Any) -> Client:
    """A client logged in as ``user`` that reads the answers in English."""
    client = Client()
    client.force_login(user)
    client.cookies["linli_language"] = "en"
    return client
