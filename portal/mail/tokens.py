"""A ticket's marks on the mail it sends, by which a reply finds its ticket again.

- The reply address: the brand's address with `+t<ticket id>-<signature>` in its local part
  (support+t1234-9f2c...@hanbit-pay.example). The signature is an HMAC of the ticket id under
  SECRET_KEY, so it cannot be guessed for another ticket; the listener takes mail to any
  `+...` form of an address it knows.
- The subject token: `[#1234]`, for mail clients that drop the reply address. Anyone can type
  it, so it joins a ticket only when the sender takes part in it (as every way in does).
"""

import hashlib
import hmac
import re

from portal.desk.orgs import normalise_address

SUBJECT_TOKEN = re.compile(r"\[#(\d{1,12})\]")
_REPLY_TAG = re.compile(r"^t(\d{1,12})-([0-9a-f]{16})$")


def signature(secret_key: str, ticket_id: int) -> str:
    digest = hmac.new(secret_key.encode(), f"mail-reply:{ticket_id}".encode(), hashlib.sha256)
    return digest.hexdigest()[:16]


def reply_address(address: str, secret_key: str, ticket_id: int) -> str:
    """`address` with the ticket's signed tag: replies to it come back to this ticket."""
    local, _, domain = address.partition("@")
    return f"{local}+t{ticket_id}-{signature(secret_key, ticket_id)}@{domain}"


def base_address(address: str) -> str:
    """The address without its `+tag`, normalised as support addresses are stored (lower case,
    the domain in IDNA): what the listener looks up."""
    local, at, domain = normalise_address(address).rpartition("@")
    return f"{local.partition('+')[0]}@{domain}" if at else domain


def ticket_in_address(address: str, secret_key: str) -> int | None:
    """The ticket id an address's tag names, when its signature is right; else None."""
    local = address.strip().lower().partition("@")[0]
    tag = local.partition("+")[2]
    found = _REPLY_TAG.match(tag)
    if found is None:
        return None
    ticket_id, given = int(found.group(1)), found.group(2)
    if not hmac.compare_digest(given, signature(secret_key, ticket_id)):
        return None
    return ticket_id


def subject_with_token(subject: str, ticket_id: int) -> str:
    """The subject with `[#id]` at its end (once)."""
    mark = f"[#{ticket_id}]"
    return subject if mark in subject else f"{subject} {mark}"


def ticket_in_subject(subject: str) -> int | None:
    """The ticket id a subject names with `[#id]` (the last one), if any."""
    found = SUBJECT_TOKEN.findall(subject or "")
    return int(found[-1]) if found else None
