"""Open311 GeoReport v2 (``linli.cases.open311``); every answer is ``.json`` or ``.xml``."""

from django.urls import path, re_path

from . import open311

app_name = "open311"
urlpatterns = [
    path("discovery.<str:fmt>", open311.discovery, name="discovery"),
    path("v2/services.<str:fmt>", open311.services, name="services"),
    path("v2/services/<str:code>.<str:fmt>", open311.service_definition, name="service"),
    path("v2/requests.<str:fmt>", open311.service_requests, name="requests"),
    path("v2/requests/<str:request_id>.<str:fmt>", open311.request_detail, name="request"),
    path("v2/tokens/<str:token>.<str:fmt>", open311.token, name="token"),
    # Anything else under /open311/ is a 404 in the specification's error form, not a page.
    re_path(r"^(?P<rest>.*)$", open311.not_found, name="not_found"),
]
