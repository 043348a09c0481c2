"""allauth's adapters: what Taskscore changes in how allauth treats accounts and two-factor
secrets."""

from __future__ import annotations

import base64
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.http import HttpRequest
from django.utils.crypto import get_random_string

from taskscore.core.client_address import client_address


class AccountAdapter(DefaultAccountAdapter):
    def send_account_already_exists_mail(self, email: str) -> None:
        """A sign-up with a taken address creates nothing, so it would answer faster than one
        with a new address, which hashes its password (Argon2id: tens of milliseconds): hash a
        throwaway password too, so that the time of the answer does not tell either."""
        make_password(get_random_string(32))
        super().send_account_already_exists_mail(email)

    def get_client_ip(self, request: HttpRequest) -> str:
        """The address allauth's per-address limits (log-in, sign-up, resets) count: the one the
        API's own limits count (`core.client_address`, behind `TRUSTED_PROXY_HOPS` proxies)."""
        return client_address(request)

    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: Any) -> str:
        """The account whose failed log-ins `login_failed`'s per-account limit counts: the
        address alone. allauth prefixes the request's host (`Host`, port included), which a
        client that reaches Django directly can vary to start a fresh count for the same
        account."""
        login = credentials.get("email", credentials.get("username", ""))
        return f"login:{str(login).strip().lower()}"


def _fernet_for(secret: str) -> Fernet:
    key = HKDF(algorithm=SHA256(), length=32, salt=None, info=b"taskscore.mfa.secrets")
    return Fernet(base64.urlsafe_b64encode(key.derive(secret.encode())))


class MFAAdapter(DefaultMFAAdapter):
    """Two-factor secrets (an authenticator app's TOTP key, the recovery codes' seed) are stored
    encrypted (Fernet: AES-128-CBC with an HMAC), under a key derived from SECRET_KEY: a copy of
    the database alone gives nobody a second factor. Rotating SECRET_KEY keeps them readable
    while the old key is in SECRET_KEY_FALLBACKS; `manage.py mfa_reencrypt` then re-encrypts
    them under the new key, after which the old one may go."""

    # Where allauth keeps each kind's secret in Authenticator.data.
    SECRET_FIELDS = {"totp": "secret", "recovery_codes": "seed"}

    def _fernet(self) -> MultiFernet:
        secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
        return MultiFernet([_fernet_for(secret) for secret in secrets])

    def encrypt(self, text: str) -> str:
        return self._fernet().encrypt(text.encode()).decode()

    def decrypt(self, encrypted_text: str) -> str:
        return self._fernet().decrypt(encrypted_text.encode()).decode()

    def reencrypt(self, encrypted_text: str) -> str:
        """The same secret encrypted under the current SECRET_KEY's key."""
        return self._fernet().rotate(encrypted_text.encode()).decode()
