from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

from linli.accounts.forms import AdminLoginForm
from linli.api import api

admin.site.site_header = "Linli 邻里"
admin.site.site_title = "Linli 邻里"
# The admin's login under the one lockout (linli.accounts.actions.throttled), with its refusal.
admin.site.login_form = AdminLoginForm

urlpatterns = [
    path("", include("linli.site.urls")),
    path("accounts/", include("linli.accounts.urls")),
    path("places/", include("linli.places.urls")),
    path("people/", include("linli.people.urls")),
    path("cases/", include("linli.cases.urls")),
    path("network/", include("linli.network.urls")),
    path("party/", include("linli.party.urls")),
    # The residents' side: no login (QR form, tracking page).
    path("r/", include("linli.cases.urls_public")),
    # In-service party members report to a community from its QR code (no login yet).
    path("d/", include("linli.party.urls_public")),
    # Open311 GeoReport v2: other programs list services, file cases with a key, follow them.
    path("open311/", include("linli.cases.urls_open311")),
    path("i18n/setlang/", set_language, name="set_language"),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
]
