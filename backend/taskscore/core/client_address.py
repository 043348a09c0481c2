"""The address a request came from: the one function every per-address rule reads (the API's
rate limits, allauth's log-in and sign-up limits through `accounts.adapter`). See
docs/decisions/0012-security-hardening.md, finding 3."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """The client's IP address.

    With `TRUSTED_PROXY_HOPS` = 0, `REMOTE_ADDR`. Behind that many proxies, each of which appends
    the address it saw to `X-Forwarded-For` (the web app's server is the first of them), the
    entry the outermost trusted proxy added: entries before it are the client's own words. When
    the header has fewer entries than hops, or that entry is not an IP address, the proxies are
    not what the setting says, and `REMOTE_ADDR` is used (one address for every client behind
    them, never one the client chose)."""
    remote = _normalized(str(request.META.get("REMOTE_ADDR") or "")) or "unknown"
    hops = int(settings.TRUSTED_PROXY_HOPS)
    if hops <= 0:
        return remote
    forwarded = [a.strip() for a in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")]
    forwarded = [a for a in forwarded if a]
    if len(forwarded) < hops:
        return remote
    return _normalized(forwarded[-hops]) or remote


def _normalized(value: str) -> str | None:
    """`value` as an IP address in its canonical form (an IPv4 address mapped into IPv6, as a
    dual-stack socket reports it, as the IPv4 address), or None when it is not one."""
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)
