"""The rule editor's form (admin/automation_rules.py): name, events, all/any, and rows of
conditions and actions; blank rows are shown for new ones and left out when saved."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, FieldList, Form, FormField, StringField, TextAreaField
from wtforms.fields import SelectMultipleField

from portal.desk.automation import rules

BLANK_ROWS = 1  # empty rows shown after the filled ones
MAX_ROWS = 40

EVENT_LABELS = {
    "ticket_created": _l("A ticket is created"),
    "customer_replied": _l("The customer replies"),
    "agent_replied": _l("An agent replies"),
    "status_changed": _l("The status changes"),
}
CONDITION_LABELS = {
    "subject_contains": _l("Subject contains"),
    "body_contains": _l("Message contains"),
    "text_contains": _l("Subject or message contains"),
    "requester_email_is": _l("Requester's email is"),
    "requester_domain_is": _l("Requester's email domain is"),
    "organization_is": _l("Organization is"),
    "form_is": _l("Form is"),
    "answer_is": _l("Form answer is (key=value)"),
    "channel_is": _l("Channel is (web, email, api)"),
    "brand_is": _l("Brand is this brand"),
    "locale_is": _l("Language is"),
    "priority_is": _l("Priority is"),
    "status_is": _l("Status is"),
    "tags_include": _l("Tags include"),
    "tags_exclude": _l("Tags do not include"),
    "within_business_hours": _l("Within business hours"),
    "outside_business_hours": _l("Outside business hours"),
}
ACTION_LABELS = {
    "assign": _l("Assign to (agent's email or group name)"),
    "set_priority": _l("Set priority"),
    "set_type": _l("Set type"),
    "set_status": _l("Set status"),
    "add_tags": _l("Add tags"),
    "remove_tags": _l("Remove tags"),
    "add_note": _l("Add an internal note"),
    "mail_requester": _l("Mail the requester (subject, text)"),
    "notify_webhook": _l("Notify a webhook"),
    "stop": _l("Stop processing further rules"),
}


class ConditionRow(Form):
    kind = StringField()
    value = StringField()


class ActionRow(Form):
    type = StringField()
    value = StringField()
    body = TextAreaField()


class RuleForm(FlaskForm):
    """One rule as typed. `step` says what the button pressed asks: "save", "add_condition",
    "add_action" or "try"."""

    name = StringField(_l("Name"))
    active = BooleanField(_l("Active"))
    events = SelectMultipleField(choices=list(EVENT_LABELS), validate_choice=False)
    match = StringField(default="all")
    conditions = FieldList(FormField(ConditionRow), max_entries=MAX_ROWS)
    actions = FieldList(FormField(ActionRow), max_entries=MAX_ROWS)
    step = StringField(default="save")

    def fill(self, draft: rules.Draft) -> None:
        """Show a saved rule (on a GET)."""
        self.name.data, self.active.data = draft.name, draft.active
        self.events.data, self.match.data = list(draft.events), draft.match
        for kind, value in draft.conditions:
            self.conditions.append_entry({"kind": kind, "value": value})
        for kind, value, body in draft.actions:
            self.actions.append_entry({"type": kind, "value": value, "body": body})

    def add_blank_rows(self) -> None:
        """One more row where asked for, and a blank row at the end of each list."""
        if self.step.data == "add_condition" or not self.conditions.entries:
            self.conditions.append_entry()
        if self.step.data == "add_action" or not self.actions.entries:
            self.actions.append_entry()
        for rows in (self.conditions, self.actions):
            last = rows.entries[-1].form if rows.entries else None
            filled = last is not None and any((f.data or "").strip() for f in last)
            if filled and len(rows.entries) < MAX_ROWS:
                rows.append_entry()

    def draft(self) -> rules.Draft:
        return rules.Draft(
            name=self.name.data or "",
            active=bool(self.active.data),
            events=list(self.events.data or []),
            match=self.match.data if self.match.data in rules.MATCHES else "all",
            conditions=[
                ((row.kind.data or "").strip(), row.value.data or "")
                for row in (e.form for e in self.conditions.entries)
            ],
            actions=[
                ((row.type.data or "").strip(), row.value.data or "", row.body.data or "")
                for row in (e.form for e in self.actions.entries)
            ],
        )


class ToggleForm(FlaskForm):
    """Switch a rule on ("1") or off."""

    active = StringField()


class MoveForm(FlaskForm):
    """Move a rule "up" or "down"."""

    direction = StringField()
