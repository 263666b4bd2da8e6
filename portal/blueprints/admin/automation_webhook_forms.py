"""The webhook form of the back office: a team-chat or signed target of a brand.

The URL is write-only (it holds Slack's, JANDI's or Telegram's token): never filled back into
the page; left empty on an existing target it keeps the saved one. "Allow private addresses"
is shown and read only for admins holding "security" on every brand (`may_allow_private`).
"""

from urllib.parse import urlsplit

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from portal.desk.automation import webhooks

KIND_LABELS = {
    webhooks.SLACK: _l("Slack incoming webhook"),
    webhooks.TELEGRAM: _l("Telegram bot (sendMessage)"),
    webhooks.JANDI: _l("JANDI incoming webhook"),
    webhooks.SIGNED: _l("Any URL, JSON signed with HMAC-SHA256"),
}
EVENT_LABELS = {
    "ticket_created": _l("New request"),
    "customer_replied": _l("Customer reply"),
    "assigned": _l("Assignment"),
    "alert": _l("Alerts from schedules and rules"),
}
CONTROL = {chr(c) for c in range(32)} | {"\x7f"}


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class WebhookForm(FlaskForm):
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=100)], filters=[_strip])
    kind = SelectField(
        _l("Kind"), choices=[SelectChoice(k, label) for k, label in KIND_LABELS.items()]
    )
    url = StringField(_l("URL"), validators=[Length(max=1000)], filters=[_strip])
    chat_id = StringField(_l("Telegram chat id"), validators=[Length(max=64)], filters=[_strip])
    events = SelectMultipleField(
        _l("Events"),
        choices=[SelectChoice(k, label) for k, label in EVENT_LABELS.items()],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    active = BooleanField(_l("Active"), default=True)
    allow_private = BooleanField(_l("Allow private and loopback addresses"))

    def __init__(self, *args, new: bool = True, may_allow_private: bool = False, saved=None, **kw):
        super().__init__(*args, **kw)
        self.new = new
        self.may_allow_private = may_allow_private
        self.saved_allow_private = bool(saved and saved.allow_private)

    def _allow_private(self) -> bool:
        if self.may_allow_private:
            return bool(self.allow_private.data)
        return self.saved_allow_private

    def validate_url(self, field) -> None:
        if not field.data:
            if self.new:
                raise ValidationError(_("Type the webhook's URL."))
            return
        if CONTROL & set(field.data):
            raise ValidationError(_("Line breaks and control characters are not allowed here."))
        parts = urlsplit(field.data)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValidationError(_("Type an http:// or https:// address."))
        if parts.username is not None or parts.password is not None:
            raise ValidationError(_("Leave the user name and password out of the address."))
        refused = webhooks.refusal(field.data, self._allow_private())
        if refused:
            raise ValidationError(
                _(
                    "This address is refused: %(reason)s. Private, loopback and link-local "
                    "addresses need an admin's permission.",
                    reason=refused,
                )
            )

    def validate_chat_id(self, field) -> None:
        if self.kind.data == webhooks.TELEGRAM and not field.data:
            raise ValidationError(_("Type the Telegram chat id (a number, or @channelname)."))
        if field.data and (CONTROL | set(" /")) & set(field.data):
            raise ValidationError(_("Type the chat id only, like -1001234567890."))

    def validate_events(self, field) -> None:
        if not field.data:
            raise ValidationError(_("Choose at least one event."))

    def settings(self) -> webhooks.TargetSettings:
        return webhooks.TargetSettings(
            name=self.name.data,
            kind=self.kind.data,
            url=self.url.data or None,
            chat_id=self.chat_id.data or None,
            events=tuple(self.events.data or ()),
            active=bool(self.active.data),
            allow_private=bool(self.allow_private.data) if self.may_allow_private else None,
        )


def webhook_form(target, may_allow_private: bool) -> WebhookForm:
    """The form, filled from `target` (None: a new one) on GET."""
    if target is None:
        data = {"kind": webhooks.SIGNED, "events": list(webhooks.EVENTS), "active": True}
    else:
        data = {
            "name": target.name,
            "kind": target.kind,
            "chat_id": target.chat_id or "",
            "events": list(target.events or []),
            "active": target.active,
            "allow_private": target.allow_private,
        }
    return WebhookForm(
        data=data, new=target is None, may_allow_private=may_allow_private, saved=target
    )


class ConfirmForm(FlaskForm):
    """A delete, test, rotation or retry, posted from a button (only the CSRF token)."""
