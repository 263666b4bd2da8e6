"""The attachment retention form (admin/retention.py): one brand's days, nothing else."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField

from portal.desk import retention


class RetentionForm(FlaskForm):
    """One brand's attachment retention: the days after closing (empty: keep forever). The
    brand is named by its slug and checked by the view."""

    brand = StringField()
    days = StringField(_l("Days after the ticket closed"))

    def days_value(self) -> int | None:
        """The days typed, or None for "keep forever"; RetentionError when not a number."""
        text = (self.days.data or "").strip()
        if not text:
            return None
        if not (text.isascii() and text.isdigit()) or len(text) > 6:
            raise retention.RetentionError("days_not_a_number")
        return int(text)
