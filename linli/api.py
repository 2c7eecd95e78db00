"""The API root: ``/api/v1/``, OpenAPI at ``/api/v1/openapi.json``.

Authentication: a bearer token (``Authorization: Bearer lnl_…``, issued on the "My account" page or
with ``linli token``) or the browser session (with its CSRF token for writes). Every router scopes
its reads exactly as the pages do.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.operation import Operation
from ninja.security import HttpBearer, SessionAuth

from linli.accounts.actions import user_for_token
from linli.accounts.models import User
from linli.core.api import Parser, install_error_handlers


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


class LinliAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation: Operation) -> str:
        """``linli_<app>_api_<function>`` whether the app's API is one module or a package of
        modules by resource (``linli.network.api.chiefs``), so that splitting a module does not
        rename the operations clients were generated from."""
        parts = operation.view_func.__module__.split(".")
        module = ".".join(parts[: parts.index("api") + 1] if "api" in parts else parts)
        return f"{module}_{operation.view_func.__name__}".replace(".", "_")


api = LinliAPI(
    title="Linli API",
    version="1",
    description=(
        "Linli 邻里: places, accounts, the roster, residents' cases, the network of chiefs and "
        "volunteers, and party members' dual report, scoped per user."
    ),
    urls_namespace="api",
    auth=[TokenAuth(), SessionAuth()],
    parser=Parser(),
)
# One error layer for every router: see linli.core.api.
install_error_handlers(api)

from linli.accounts.api import router as accounts_router  # noqa: E402
from linli.cases.api import router as cases_router  # noqa: E402
from linli.network.api import router as network_router  # noqa: E402
from linli.party.api import router as party_router  # noqa: E402
from linli.people.api import router as people_router  # noqa: E402
from linli.places.api import router as places_router  # noqa: E402

api.add_router("/", accounts_router)
api.add_router("/", places_router)
api.add_router("/", people_router)
api.add_router("/", cases_router)
api.add_router("/", network_router)
api.add_router("/", party_router)
