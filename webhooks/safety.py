"""Where a webhook may send: https only (unless WEBHOOK_ALLOW_HTTP), never to private, loopback, link-local or cloud
metadata addresses (unless WEBHOOK_ALLOW_PRIVATE). The name is resolved once, and the delivery connects to the address
checked here, so a name that answers differently the second time (DNS rebinding) cannot reach an internal host."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

# Metadata services reachable at public-looking addresses (the link-local ones are refused with their range).
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(address) for address in ("168.63.129.16", "100.100.100.200", "fd00:ec2::254")
)


class UnsafeURL(Exception):
    """A webhook URL that may not be used; the message is fit to show a user."""


@dataclass(frozen=True)
class Destination:
    scheme: str
    host: str  # the name in the URL (for the Host header and TLS)
    port: int
    address: str  # the one address the delivery connects to


def check_url_form(url: str) -> str:
    """The URL, stripped, when its form is acceptable (scheme, host, no credentials); raises UnsafeURL."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise UnsafeURL(f"This is not a valid URL ({error}).") from None
    allowed = {"https", "http"} if settings.WEBHOOK_ALLOW_HTTP else {"https"}
    if parts.scheme not in allowed:
        raise UnsafeURL("Webhook URLs must start with https://." if parts.scheme != "https" else "Invalid URL.")
    if not parts.hostname:
        raise UnsafeURL("The URL has no host name.")
    if parts.username or parts.password:
        raise UnsafeURL("Put credentials in a header, not in the URL.")
    if port == 0:
        raise UnsafeURL("The URL's port is not valid.")
    if any(char.isspace() or ord(char) < 32 for char in url):
        raise UnsafeURL("The URL contains spaces or control characters.")
    return url


def _refusal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in METADATA_ADDRESSES or (address.is_link_local and not address.is_loopback):
        return "a link-local or cloud metadata address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_unspecified or address.is_multicast or address.is_reserved:
        return "an address that cannot receive webhooks"
    if not address.is_global:
        return "a private address"
    return None


def resolve(url: str) -> Destination:
    """Check url and resolve its host once to an address it may reach; raises UnsafeURL."""
    url = check_url_form(url)
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise UnsafeURL(f"The host {host} could not be resolved ({error}).") from None
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    if not settings.WEBHOOK_ALLOW_PRIVATE:
        # Every address the name has must be acceptable: otherwise an attacker's name with one public and one
        # internal address would reach the internal one whenever it came first.
        for address in addresses:
            reason = _refusal(address)
            if reason is not None:
                raise UnsafeURL(f"The host {host} resolves to {address}, {reason}; webhooks may not be sent there.")
    return Destination(scheme=parts.scheme, host=host, port=port, address=str(addresses[0]))
