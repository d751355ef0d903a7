"""The project level as an app: what spans the other apps (dashboards, closing an account, demo data, checks)."""

from django.apps import AppConfig

from . import checks  # noqa: F401  (registers the project-wide deploy checks)


class InterkanectConfig(AppConfig):
    name = "interkanect"
    verbose_name = "InterKanect"
