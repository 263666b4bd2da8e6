"""Forms on public help-center pages."""

from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired


class VoteForm(FlaskForm):
    helpful = RadioField(
        choices=[SelectChoice("yes", "yes"), SelectChoice("no", "no")],
        validators=[InputRequired()],
    )
