from django.urls import path

from linli.people import views

app_name = "people"
urlpatterns = [
    path("", views.search, name="search"),
    path("<int:resident_id>/", views.detail, name="detail"),
    path("<int:resident_id>/reveal/<str:field>/", views.reveal, name="reveal"),
    path("<int:resident_id>/edit/", views.edit, name="edit"),
    path("<int:resident_id>/leave/", views.leave, name="leave"),
    path("new/<int:dwelling_id>/", views.new, name="new"),
    path("care/<int:place_id>/", views.care, name="care"),
]

# Import and export of rosters (linli/people/views_import.py).
from linli.people.urls_import import urlpatterns as import_patterns  # noqa: E402

urlpatterns += import_patterns
