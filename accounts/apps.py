from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    # allauth's e-mail addresses app is "Accounts" too: two admin sections of one name.
    verbose_name = "Users and audit"
