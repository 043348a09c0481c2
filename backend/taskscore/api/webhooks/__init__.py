"""Inbound webhooks: plain Django views that read the raw body (signatures cover the bytes)."""
