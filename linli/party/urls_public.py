from django.urls import path

from . import public

app_name = "public_party"
urlpatterns = [
    path("ok/", public.registered, name="registered"),
    path("<str:token>/", public.register, name="register"),
]
