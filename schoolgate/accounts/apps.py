"""People who log in: the user model, login and MFA rules."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "schoolgate.accounts"
    label = "accounts"
    verbose_name = "Accounts"
