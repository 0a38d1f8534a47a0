"""Rotating the encryption key re-encrypts stored secrets so the old key can be retired."""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.utils import timezone

from schoolgate import crypto
from schoolgate.news.models import DigestSubscriber
from schoolgate.official_accounts.actions import store_login
from schoolgate.official_accounts.models import EscrowedLogin, OfficialAccount
from schoolgate.testing import TOTP_SECRET


def test_it_re_encrypts_totp_secrets_and_escrowed_logins_under_the_new_key(cast, settings):
    cast.school.email_domains = "example.org"
    cast.school.save(update_fields=["email_domains"])
    account = OfficialAccount.objects.create(
        school=cast.school,
        name="News",
        network="bluesky",
        registration_email="news@example.org",
        aim="a",
        intended_audience="b",
        promotion="c",
        visibility="open",
        objectives="d",
        intended_outcomes="e",
        risks="f",
        likelihood="low",
        mitigations="g",
        proposed_at=timezone.now(),
        status="approved",
    )
    store_login(account, by=cast.head, login="news", password="pw-rotate-me")
    subscriber = DigestSubscriber.objects.create(school=cast.school, email="family@example.org")
    token = subscriber.token
    old_key = settings.ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.ENCRYPTION_KEYS = [new_key, old_key]
    crypto._fernet.cache_clear()
    try:
        call_command("rotate_encryption_key")
        settings.ENCRYPTION_KEYS = [new_key]  # the old key is retired
        crypto._fernet.cache_clear()
        stored = Authenticator.objects.get(user=cast.head, type=Authenticator.Type.TOTP).data["secret"]
        assert stored != TOTP_SECRET
        assert crypto.decrypt(stored) == TOTP_SECRET
        assert EscrowedLogin.objects.get(account=account).reveal()["password"] == "pw-rotate-me"
        # The digest's unsubscribe links are built from the stored token, so it must survive the rotation.
        assert DigestSubscriber.objects.get(pk=subscriber.pk).token == token
    finally:
        crypto._fernet.cache_clear()


def test_it_adds_a_new_key_to_the_key_file(settings, tmp_path, db):
    key_file = tmp_path / "keys"
    settings.ENCRYPTION_KEYS = []
    settings.ENCRYPTION_KEY_FILE = key_file
    crypto._fernet.cache_clear()
    try:
        token = crypto.encrypt("secret")
        first = crypto.configured_keys()
        call_command("rotate_encryption_key", "--new-key")
        keys = crypto.configured_keys()
        assert len(keys) == 2 and keys[1] == first[0]
        assert crypto.decrypt(token) == "secret"
        assert (key_file.stat().st_mode & 0o777) == 0o600
    finally:
        crypto._fernet.cache_clear()
