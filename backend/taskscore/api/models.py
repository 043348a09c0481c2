from __future__ import annotations

from django.db import models


class IdempotentRequest(models.Model):
    """A POST made with an `Idempotency-Key`: the first response is replayed for 24 h to the same
    caller sending the same key and body. Unique per (caller, key), so concurrent requests with
    one key run the endpoint once."""

    caller = models.CharField(max_length=80)  # "key:<sha256 of the bearer token>" or "user:<id>"
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)  # method, path and body
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)  # null: in progress
    response_body = models.BinaryField(null=True, blank=True)
    response_content_type = models.CharField(max_length=100, blank=True)
    is_secret = models.BooleanField(default=False)  # the body held a secret and was not kept
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["caller", "key"], name="idempotent_unique_caller_key")
        ]

    def __str__(self) -> str:
        return f"{self.caller}:{self.key}"
