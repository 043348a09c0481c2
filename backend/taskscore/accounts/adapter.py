"""allauth's account adapter: what Taskscore changes in how allauth treats accounts."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
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
