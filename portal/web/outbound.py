"""Requests Portal itself sends to addresses admins typed (webhooks), refusing private networks.

Server-side request forgery: a URL an admin (or anyone who can change one) types must not
make Portal talk to its own host, the LAN or a cloud metadata service. So, unless the caller
allows private addresses (an admin's explicit choice for one target):

- only http and https URLs, without user:password;
- the host is resolved once (socket.getaddrinfo) and refused when ANY address it resolves to
  is private, loopback, link-local, multicast, reserved or unspecified (IPv4 and IPv6,
  IPv4-mapped IPv6 judged as the IPv4 address it holds);
- the connection goes to the address that was checked: urllib3's connection pool is opened on
  that IP, with the URL's host sent as Host, as TLS SNI and checked against the certificate
  (server_hostname / assert_hostname). No second lookup happens that a rebinding DNS server
  could answer differently;
- redirects are not followed by the library: at most MAX_REDIRECTS are followed here, each
  new URL checked the same way.

Connect and read time out after TIMEOUT_SECONDS each; at most RESPONSE_BYTES of an answer are
read (it is only shown in a delivery log).
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import urllib3
from urllib3.exceptions import HTTPError

TIMEOUT_SECONDS = 5.0
MAX_REDIRECTS = 3
RESPONSE_BYTES = 2048
_REDIRECTS = (301, 302, 303, 307, 308)
_DEFAULT_PORTS = {"http": 80, "https": 443}


class Refused(ValueError):
    """A URL Portal will not fetch: its scheme, credentials, or a refused address (`address`)."""

    def __init__(self, message: str, address: str | None = None):
        super().__init__(message)
        self.address = address


class FetchError(OSError):
    """The request did not get an answer: connection refused, timeout, TLS, too many
    redirects."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: str  # the first RESPONSE_BYTES, decoded leniently


def is_public(address: str) -> bool:
    """Whether `address` (an IP literal) is an ordinary internet address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone id says nothing here
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def _parts(url: str):
    parts = urlsplit(url or "")
    if parts.scheme not in _DEFAULT_PORTS:
        raise Refused("only http and https addresses")
    if parts.username is not None or parts.password is not None:
        raise Refused("no user name or password in the address")
    try:
        port = parts.port or _DEFAULT_PORTS[parts.scheme]
    except ValueError as exc:
        raise Refused("not a valid port") from exc
    if not parts.hostname:
        raise Refused("no host in the address")
    return parts, parts.hostname, port


def resolve(url: str, allow_private: bool = False) -> str:
    """The address to connect to for `url`, after the checks above; raises Refused (a refused
    address in `.address`) or FetchError (the name does not resolve)."""
    _parts_, host, port = _parts(url)
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"{host} does not resolve") from exc
    addresses = []
    for _family, _type, _proto, _name, sockaddr in found:
        if sockaddr[0] not in addresses:
            addresses.append(sockaddr[0])
    if not addresses:
        raise FetchError(f"{host} does not resolve")
    if not allow_private:
        for address in addresses:
            if not is_public(address):
                raise Refused(f"{host} is a private address ({address})", address)
    return addresses[0]


def check(url: str, allow_private: bool = False) -> None:
    """Raise Refused when `url` cannot be posted to (save-time check). A name that does not
    resolve (yet) is accepted here: delivery checks again."""
    try:
        resolve(url, allow_private)
    except FetchError:
        pass


def post(url: str, body: bytes, headers: dict[str, str], allow_private: bool = False) -> Answer:
    """POST `body` to `url`, following at most MAX_REDIRECTS redirects by hand (307/308 post
    again, 301/302/303 continue with a GET, as browsers do). Raises Refused or FetchError."""
    method = "POST"
    for _hop in range(MAX_REDIRECTS + 1):
        answer, location = _one_request(method, url, body, headers, allow_private)
        if answer.status not in _REDIRECTS or not location:
            return answer
        url = urljoin(url, location)
        if answer.status in (301, 302, 303):
            method, body = "GET", b""
            headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
    raise FetchError(f"more than {MAX_REDIRECTS} redirects")


def _one_request(method, url, body, headers, allow_private) -> tuple[Answer, str | None]:
    parts, host, port = _parts(url)
    address = resolve(url, allow_private)
    timeout = urllib3.Timeout(connect=TIMEOUT_SECONDS, read=TIMEOUT_SECONDS)
    options = {"timeout": timeout, "retries": False, "maxsize": 1, "block": False}
    if parts.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            address, port, server_hostname=host, assert_hostname=host, **options
        )
    else:
        pool = urllib3.HTTPConnectionPool(address, port, **options)
    default_port = _DEFAULT_PORTS[parts.scheme]
    shown_host = f"[{host}]" if ":" in host else host
    sent = {**headers, "Host": shown_host if port == default_port else f"{shown_host}:{port}"}
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        response = pool.urlopen(
            method,
            path,
            body=body or None,
            headers=sent,
            redirect=False,
            retries=False,
            preload_content=False,
            assert_same_host=False,
        )
        try:
            text = response.read(RESPONSE_BYTES, decode_content=False) or b""
        finally:
            response.release_conn()
            response.close()
    except HTTPError as exc:
        raise FetchError(_reason(exc)) from exc
    finally:
        pool.close()
    answer = Answer(response.status, text.decode("utf-8", "replace"))
    return answer, response.headers.get("Location")


def _reason(exc: BaseException) -> str:
    """A short cause for the log: the innermost reason urllib3 wraps (connection refused...)."""
    reason = getattr(exc, "reason", None) or exc
    text = str(reason)
    # urllib3 prefixes the connection object's repr: keep what follows it.
    if "): " in text and text.startswith("<"):
        text = text.split("): ", 1)[1]
    return f"{type(reason).__name__}: {text}"[:300]
