from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils import translation
from django.utils.cache import patch_vary_headers

from linli.core.context import RequestInfo, current_request

# No inline scripts or styles anywhere: htmx is served from our own origin, configured by a
# <meta> tag, and its indicator styles live in our stylesheet.
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class QueryWithoutNulMiddleware:
    """Removes NUL characters from the query string before any page or endpoint reads it.

    PostgreSQL cannot hold or compare text with a NUL, so a search for one would fail with a server
    error; no one types it, and without it the parameter means what the person meant. Forms refuse
    NUL already (Django's fields do); the API's bodies are checked by their schemas.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        query = request.META.get("QUERY_STRING", "")
        if "%00" in query:
            request.GET = QueryDict(query.replace("%00", ""), encoding=request.encoding)
        return self.get_response(request)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith("/admin/"):
            response.headers.setdefault("Content-Security-Policy", CSP)
        else:
            # Django's admin uses a few inline scripts of its own; it is for operators only.
            response.headers.setdefault(
                "Content-Security-Policy",
                "default-src 'self'; img-src 'self' data:; object-src 'none'; "
                "frame-ancestors 'none'; script-src 'self' 'unsafe-inline'; "
                "style-src 'self' 'unsafe-inline'",
            )
        response.headers.setdefault("Permissions-Policy", "geolocation=(self), camera=(self)")
        return response


def client_ip(request: HttpRequest) -> str | None:
    """The client's address. ``X-Real-IP`` counts only when the peer is a trusted proxy
    (``LINLI_TRUSTED_PROXIES``); a header sent by anyone else is ignored, so it cannot be forged."""
    peer = request.META.get("REMOTE_ADDR") or None
    if peer and peer in settings.LINLI_TRUSTED_PROXIES:
        forwarded = str(request.META.get("HTTP_X_REAL_IP", "")).strip()
        if forwarded:
            return forwarded[:45]
    return peer


class RequestContextMiddleware:
    """Keeps the client's address and agent for the audit records written during the request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = current_request.set(
            RequestInfo(client_ip(request), request.META.get("HTTP_USER_AGENT", "")[:200])
        )
        try:
            return self.get_response(request)
        finally:
            current_request.reset(token)


class LanguageMiddleware:
    """Simplified Chinese unless the user chose otherwise with the language switch.

    Django's LocaleMiddleware would follow the browser's Accept-Language; a community worker's
    phone set to English would then get English pages unasked. Here only the switch (a cookie)
    changes the language.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        codes = {code for code, _name in settings.LANGUAGES}
        language = chosen if chosen in codes else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        patch_vary_headers(response, ("Cookie",))
        translation.deactivate()
        return response
