"""The reply box of a request's page (its requester, or anyone it is shared with)."""

from flask_wtf import FlaskForm
from wtforms import TextAreaField


class RequesterReplyForm(FlaskForm):
    """The text of a reply; its files come with the same post (`attachments`)."""

    body = TextAreaField(default="")

    @property
    def text(self) -> str:
        return (self.body.data or "").strip()
