"""Forms of the agent's notifications: mark all read, the choices per kind, follow a ticket."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField
from wtforms.validators import AnyOf

from portal.desk.automation.models import NOTICE_KINDS
from portal.web.ids import parse_id


class MarkAllReadForm(FlaskForm):
    """The CSRF token alone: every notice of the agent becomes read."""


class FollowForm(FlaskForm):
    """Follow a ticket ("1") or stop ("0")."""

    follow = HiddenField(validators=[AnyOf(["0", "1"])])

    @property
    def following(self) -> bool:
        return self.follow.data == "1"


class NotificationPageQuery:
    """?page=N of the notifications list (anything else: the first page)."""

    def __init__(self, page: int):
        self.page = page

    @classmethod
    def from_args(cls, args) -> "NotificationPageQuery":
        return cls(parse_id(args.get("page"), high=10000) or 1)


def _box() -> BooleanField:
    # A box sends "y" when ticked and nothing when not: unticked is False.
    return BooleanField(false_values=("", "0", "false"))


class NotificationSettingsForm(FlaskForm):
    """Two boxes per kind of notice: by mail (<kind>_mail) and in the app (<kind>_app)."""

    @property
    def choices(self) -> dict[str, tuple[bool, bool]]:
        return {
            kind: (bool(self[f"{kind}_mail"].data), bool(self[f"{kind}_app"].data))
            for kind in NOTICE_KINDS
        }

    @classmethod
    def for_choices(cls, choices: dict[str, tuple[bool, bool]]) -> "NotificationSettingsForm":
        data = {}
        for kind, (by_mail, in_app) in choices.items():
            data[f"{kind}_mail"], data[f"{kind}_app"] = by_mail, in_app
        return cls(formdata=None, data=data)


for _kind in NOTICE_KINDS:
    setattr(NotificationSettingsForm, f"{_kind}_mail", _box())
    setattr(NotificationSettingsForm, f"{_kind}_app", _box())
