"""WebSocket routes."""

from django.urls import path

from .consumers import RoomConsumer

websocket_urlpatterns: list = [
    path("ws/rooms/<str:token>/", RoomConsumer.as_asgi()),
]
