"""Customer notification forms: a kind switched on or off, and a kind's wording in one language.

Each binds an explicit list of fields; the brand, the kind and the language come from the URL,
the member from the session.
"""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField

from portal.desk import placeholders
from portal.desk.automation import notifications
from portal.web.messages import error_text


class NotificationSwitchForm(FlaskForm):
    kind = HiddenField()
    enabled = HiddenField()  # "on" or "off": what the pressed button asks for

    def wanted(self) -> tuple[str, bool] | None:
        """(kind, on) as asked, or None for anything else than the listed kinds and on/off."""
        kind, enabled = self.kind.data or "", self.enabled.data or ""
        if kind not in notifications.KINDS or enabled not in ("on", "off"):
            return None
        return kind, enabled == "on"


class NotificationTemplateForm(FlaskForm):
    subject = StringField(_l("Subject"))
    body = TextAreaField(_l("Text"))
    # The request the preview and the test are about: 0, a made-up one; else a recent one of
    # the brand (the choices are set by the view, so no other id passes).
    ticket = SelectField(_l("Preview with"), coerce=int, default=0)
    action = StringField()  # the button pressed: "preview", "test", else save

    def values(self) -> notifications.TemplateValues:
        return notifications.check_template(
            (self.subject.data or "")[: notifications.MAX_SUBJECT * 2],
            (self.body.data or "")[: notifications.MAX_BODY * 2],
        )

    def show_errors(self, values: notifications.TemplateValues) -> None:
        names = ", ".join("{{" + name + "}}" for name in placeholders.NOTIFICATION_NAMES)
        for name, codes in values.errors.items():
            field = self._fields[name]
            for code in codes:
                found = ", ".join(values.unknown.get(name, []))
                message = error_text(code, "notification", found=found, names=names)
                field.errors = [*field.errors, message]


def template_form(row) -> NotificationTemplateForm:
    """The form, filled from the brand's saved wording (empty: the built-in text is used)."""
    data = {"subject": "", "body": "", "ticket": 0}
    if row is not None:
        data.update(subject=row.subject, body=row.body)
    return NotificationTemplateForm(data=data)
