"""`manage.py mfa_reencrypt`: after a SECRET_KEY rotation (the old key moved to
SECRET_KEY_FALLBACKS), encrypt every two-factor secret under the new key, so that the old key
can be dropped (ADR 0012, "MFA")."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from taskscore.accounts.services import mfa_secrets_reencrypt


class Command(BaseCommand):
    help = "Re-encrypt the two-factor secrets under the current SECRET_KEY."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"re-encrypted {mfa_secrets_reencrypt()}")
