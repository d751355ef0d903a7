from django.urls import path

from . import views

urlpatterns = [
    path("rooms/<str:token>/", views.room, name="room"),
]
