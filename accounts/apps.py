from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    # allauth's e-mail addresses app is "Accounts" too: two admin sections of one name.
    verbose_name = "Users and audit"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the deploy checks)
