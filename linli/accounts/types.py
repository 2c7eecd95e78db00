"""Types for code that stands behind a login: the request's user is a real account.

Pages decorated with ``login_required`` and API endpoints behind the API's auth take an
``AuthedRequest``, so ``request.user`` is a ``User`` to the type checker, as it is at run time. Code
that also serves anonymous visitors (the residents' QR pages) takes ``Viewer``.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest

from linli.accounts.models import User


class AuthedRequest(HttpRequest):
    user: User  # narrowed: a login or a token stands behind it


Viewer = User | AnonymousUser
