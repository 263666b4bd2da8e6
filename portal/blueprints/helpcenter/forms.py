"""Forms on public help-center pages."""

from flask_wtf import FlaskForm
from wtforms import RadioField


class VoteForm(FlaskForm):
    helpful = RadioField(choices=[("yes", "yes"), ("no", "no")])
