from django.urls import path

from linli.places import views

app_name = "places"
urlpatterns = [
    path("", views.index, name="index"),
    path("<int:place_id>/", views.place_detail, name="detail"),
    path("grids/<int:grid_id>/", views.grid_detail, name="grid"),
    path("lanes/<int:lane_id>/", views.lane_detail, name="lane"),
]
