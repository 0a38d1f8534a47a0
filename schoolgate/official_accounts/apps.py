"""Official accounts (RS-ACC-1, AW-ACC-1…6, AW-PUB-5, AW-PUB-6, AW-SCOPE-2): proposals to connections."""

from django.apps import AppConfig


class OfficialAccountsConfig(AppConfig):
    name = "schoolgate.official_accounts"
    label = "official_accounts"
    verbose_name = "Official accounts"
