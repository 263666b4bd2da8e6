"""The schedule bot's forms (admin/automation_schedules.py): a schedule with its rows of
conditions and actions, its place and switch, and a brand's business hours."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, Form, StringField, TextAreaField
from wtforms.fields import FieldList, FormField

from portal.desk.automation import schedules

BLANK_ROWS = 1  # an empty row under the filled ones, for the next condition or action

CONDITION_LABELS = {
    "status": _l("Status is"),
    "hours_since_created": _l("Hours since created"),
    "hours_since_updated": _l("Hours since updated"),
    "hours_since_status": _l("Hours since the status changed"),
    "hours_since_customer": _l("Hours since the customer's last message"),
    "hours_since_agent": _l("Hours since an agent's last reply"),
    "assignee": _l("Assigned or unassigned"),
    "group": _l("Group is"),
    "priority": _l("Priority is"),
    "tags_include": _l("Tags include"),
    "tags_exclude": _l("Tags exclude"),
}
ACTION_LABELS = {
    "set_status": _l("Set the status"),
    "set_priority": _l("Set the priority"),
    "add_note": _l("Add an internal note"),
    "add_tags": _l("Add tags"),
    "assign_group": _l("Assign to a group (round-robin)"),
    "remind": _l("Remind the requester"),
    "notify_group": _l("Notify a group"),
    "alert_webhook": _l("Alert a webhook"),
}


class Row(Form):
    """One condition or action: its kind (drawn as a select of the labels above; checked by
    the desk) and its value as typed."""

    kind = StringField(default="")
    value = StringField(default="")


class ScheduleForm(FlaskForm):
    """A schedule: name, switch, business hours, and rows of conditions and actions (a row
    without a kind is left out). `add` ("condition" or "action") asks for one more row."""

    name = StringField(_l("Name"))
    active = BooleanField(_l("Active"))
    business_hours = BooleanField(_l("Count the hours in the brand's business hours"))
    conditions = FieldList(FormField(Row), min_entries=1)
    actions = FieldList(FormField(Row), min_entries=1)
    add = StringField()

    def fill(self, schedule, conditions, actions) -> None:
        """Show a stored schedule (its rows as typed: schedules.rows_of), a blank row under."""
        self.name.data = schedule.name
        self.active.data = schedule.active
        self.business_hours.data = schedule.business_hours
        for field, rows in ((self.conditions, conditions), (self.actions, actions)):
            while len(field.entries):
                field.pop_entry()
            for row in rows:
                field.append_entry({"kind": row.kind, "value": row.value})
            for _ in range(BLANK_ROWS):
                field.append_entry()

    def add_row(self) -> bool:
        """One more blank row where `add` asked for it; False when it asked for none."""
        if self.add.data == "condition":
            self.conditions.append_entry()
        elif self.add.data == "action":
            self.actions.append_entry()
        else:
            return False
        return True

    def condition_rows(self) -> list[schedules.Row]:
        return [
            schedules.Row(e.form.kind.data or "", e.form.value.data or "")
            for e in self.conditions.entries
        ]

    def action_rows(self) -> list[schedules.Row]:
        return [
            schedules.Row(e.form.kind.data or "", e.form.value.data or "")
            for e in self.actions.entries
        ]


class MoveForm(FlaskForm):
    """One place up ("up") or down ("down") in the brand's order."""

    direction = StringField()

    def step(self) -> int:
        return -1 if self.direction.data == "up" else 1


class ActiveForm(FlaskForm):
    """Switch a schedule on ("1") or off."""

    active = StringField()

    def on(self) -> bool:
        return self.active.data == "1"


class DeleteForm(FlaskForm):
    """The confirmation of a deletion (the CSRF token only)."""


class BusinessHoursForm(FlaskForm):
    """A brand's week, one line a day ("mon 09:00-18:00"), and its holidays, one ISO date a
    line."""

    week = TextAreaField(_l("Opening hours"))
    holidays = TextAreaField(_l("Holidays"))
