from django.urls import path

from . import public

app_name = "public_cases"
urlpatterns = [
    path("", public.lookup, name="lookup"),
    path("b/<str:token>/", public.form, name="form"),
    path("t/<str:code>/", public.track, name="track"),
    path("t/<str:code>/rate/", public.rate, name="rate"),
]
