from django.apps import AppConfig

from . import checks  # noqa: F401  (registers the deploy checks)


class PayoutsConfig(AppConfig):
    name = "payouts"
