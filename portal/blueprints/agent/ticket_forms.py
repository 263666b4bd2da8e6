"""The forms of an agent's ticket page: the reply box, a scheduled reply's edit, the
properties, the Translate button. Each turns what was posted into the arguments of one desk
operation, and back into the values the page shows again after a refusal (what was typed is
kept)."""

import re
import secrets

from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField

from portal.desk import agent_tickets
from portal.web.ids import parse_id

FILES_KEY_RANDOM = re.compile(r"[0-9a-f]{32}")


def delay_seconds(raw: str | None) -> int | None:
    """The delay chosen, in seconds (0: now); None when it is not one (refused later)."""
    return parse_id(raw, high=999_999, low=0)


def files_key(ticket, agent_id: int, raw: str | None) -> str:
    """The key this reply's files are staged under: kept across a refused send, so files
    chosen once are not asked for again; a new one otherwise. It names the ticket and the
    agent, so a key of another ticket's or another agent's draft is never taken."""
    mine = f"r{ticket.id}-{agent_id}-"
    if raw and raw.startswith(mine) and FILES_KEY_RANDOM.fullmatch(raw.removeprefix(mine)):
        return raw
    return mine + secrets.token_hex(16)


class ReplyForm(FlaskForm):
    """A public reply or an internal note, with files, now or after a delay."""

    body = TextAreaField(default="")
    kind = HiddenField(default="public")
    status = StringField(default="")
    delay = StringField(default="")
    files_key = HiddenField(default="")
    last_message_id = HiddenField(default="")
    confirm_new = HiddenField(default="")
    action = StringField(default="")
    canned = StringField(default="")
    translate = StringField(default="")  # "1": sent in the requester's language

    @property
    def translates(self) -> bool:
        return self.public and self.translate.data == "1"

    @property
    def public(self) -> bool:
        return self.kind.data != "internal"

    @property
    def inserts_canned(self) -> bool:
        """Insert without JavaScript: the page again with the response added, nothing sent."""
        return self.action.data == "insert_canned"

    @property
    def canned_id(self) -> int | None:
        return parse_id(self.canned.data)

    @property
    def seen_up_to(self) -> int | None:
        """The newest message the agent saw; None once they confirmed sending anyway."""
        if self.confirm_new.data == "1":
            return None
        return parse_id(self.last_message_id.data, low=0)  # 0: the ticket had no message

    @property
    def delay_seconds(self) -> int | None:
        return delay_seconds(self.delay.data or "0")

    def draft(self, ticket, agent_id: int) -> dict:
        """What the reply box shows again: what was typed, under the files' key."""
        return {
            "body": self.body.data or "",
            "kind": "public" if self.public else "internal",
            "status": self.status.data or "",
            "delay": self.delay.data or "0",
            "files_key": files_key(ticket, agent_id, self.files_key.data),
            "translate": self.translates,
        }


class TranslateMessageForm(FlaskForm):
    """The Translate button under a customer's message (CSRF only: the language is the
    agent's own)."""


class ScheduledReplyForm(FlaskForm):
    """New text, status or time for a reply still waiting ("keep": the time it had)."""

    body = TextAreaField(default="")
    status = StringField(default="")
    delay = StringField(default="")

    @property
    def keeps_time(self) -> bool:
        return self.draft_delay == "keep"

    @property
    def draft_delay(self) -> str:
        return self.delay.data or "keep"

    @property
    def delay_seconds(self) -> int | None:
        return delay_seconds(self.draft_delay)

    def draft(self, reply_id: int) -> dict:
        return {
            "id": reply_id,
            "body": self.body.data or "",
            "status": self.status.data or "pending",
            "delay": self.draft_delay,
        }


class PropertiesForm(FlaskForm):
    """Status, priority, type, group, assignee and tags; an empty status or priority keeps the
    ticket's, a missing group field (no groups in the brand) leaves the group alone."""

    status = StringField(default="")
    priority = StringField(default="")
    type = StringField(default="")
    group = StringField(default="")
    assignee = StringField(default="")
    tags = StringField(default="")

    def draft(self) -> dict:
        """What the properties box shows again after a refusal."""
        return {
            key: getattr(self, key).data or ""
            for key in ("status", "priority", "type", "group", "assignee", "tags")
        }

    def changes(self, ticket) -> dict:
        """The changes for agent_tickets.change_properties; PropertyError when a group or an
        assignee is not one that can be chosen."""
        form = self.draft()
        assignee = form["assignee"].strip()
        group = form["group"].strip()
        changes = {
            "status": form["status"] or ticket.status,
            "priority": form["priority"] or ticket.priority,
            "type": form["type"] or None,
            "assignee_id": parse_id(assignee) or (assignee or None),
            "tags": agent_tickets.parse_tags(form["tags"]),
        }
        if self.group.raw_data:  # the field is there (the brand has groups)
            changes["group_id"] = parse_id(group)
            if group and changes["group_id"] is None:
                raise agent_tickets.PropertyError("group_id", "invalid")
        if assignee and parse_id(assignee) is None and assignee != "next":
            raise agent_tickets.PropertyError("assignee_id", "not_in_brand")
        return changes
