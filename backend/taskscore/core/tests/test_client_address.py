from __future__ import annotations

import pytest
from django.test import RequestFactory, override_settings

from taskscore.core.client_address import client_address

WEB_APP = "127.0.0.1"  # the web app's server, Django's direct peer


@pytest.mark.parametrize(
    ("hops", "forwarded_for", "remote", "address"),
    [
        # no proxy counted: the connection's peer, whatever the header says
        (0, "198.51.100.7", "203.0.113.5", "203.0.113.5"),
        (0, None, "203.0.113.5", "203.0.113.5"),
        # the web app: the one entry it set
        (1, "203.0.113.5", WEB_APP, "203.0.113.5"),
        # ...and only that one: entries before it are the client's own words
        (1, "198.51.100.7, 10.0.0.1, 203.0.113.5", WEB_APP, "203.0.113.5"),
        # a load balancer in front of the web app: the entry it added
        (2, "198.51.100.7, 203.0.113.5, 10.0.0.2", WEB_APP, "203.0.113.5"),
        # fewer entries than proxies, or one that is not an address: the proxies are not what
        # the setting says; the peer (every client as one), never an address a client chose
        (2, "203.0.113.5", WEB_APP, WEB_APP),
        (1, "", WEB_APP, WEB_APP),
        (1, "not-an-address", WEB_APP, WEB_APP),
        # one spelling per address: IPv4 as a dual-stack socket reports it, IPv6 compressed
        (1, "::ffff:203.0.113.5", WEB_APP, "203.0.113.5"),
        (1, "2001:DB8:0:0::1", WEB_APP, "2001:db8::1"),
        (0, None, "::ffff:127.0.0.1", "127.0.0.1"),
    ],
)
def test_the_client_address_is_the_entry_the_outermost_trusted_proxy_added(
    hops: int, forwarded_for: str | None, remote: str, address: str
) -> None:
    request = RequestFactory().get("/", REMOTE_ADDR=remote)
    if forwarded_for is not None:
        request.META["HTTP_X_FORWARDED_FOR"] = forwarded_for

    with override_settings(TRUSTED_PROXY_HOPS=hops):
        assert client_address(request) == address
