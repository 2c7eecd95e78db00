"""Where the current request comes from, for the audit log of actions called from it."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestInfo:
    ip: str | None
    user_agent: str


current_request: ContextVar[RequestInfo | None] = ContextVar("linli_request", default=None)
