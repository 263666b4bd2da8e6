"""The ticket export's form (admin/export.py): brand, dates and format, from the query string.
It binds only the fields it lists; which brands may be chosen is the view's to say."""

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice

from portal.desk import export
from portal.web.messages import error_text


class ExportForm(FlaskForm):
    """Brand, created from / to (the brand's days, both included) and format, read from the
    query string (`formdata=request.args`): the export's page and its downloads take the same
    parameters. `parse` checks them; `brand.data` is the slug asked for (the view checks it)."""

    class Meta:
        csrf = False  # a GET: a download, nothing changes but the log saying it happened

    brand = SelectField(_l("Brand"), choices=[], validate_choice=False)
    # ("from" is a Python keyword: the parameters' names are given here.)
    created_from = StringField(_l("Created from"), name="from")
    created_to = StringField(_l("Created to"), name="to")
    format = RadioField(
        _l("Format"),
        choices=[
            SelectChoice("csv", _l("CSV (one row per message)")),
            SelectChoice("json", "JSON"),
        ],
        default="csv",
        validate_choice=False,
    )

    def __init__(self, brands, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.brand.choices = [SelectChoice("", _l("Choose a brand"))] + [
            SelectChoice(b.slug, b.name) for b in brands
        ]
        self.first_day: date | None = None
        self.last_day: date | None = None

    def parse(self, fmt_from_url: str | None = None) -> bool:
        """Read and check every value; errors beside their fields. False when one is wrong.
        `fmt_from_url`: the download's own format (.csv, .json), which wins over `format`."""
        ok = True
        if not self.brand.data:
            self.brand.errors = [error_text("brand_required", "export")]
            ok = False
        self.first_day = self._day(self.created_from)
        self.last_day = self._day(self.created_to)
        if self.created_from.errors or self.created_to.errors:
            ok = False
        elif self.first_day and self.last_day and self.last_day < self.first_day:
            self.created_to.errors = [error_text("to_before_from", "export")]
            ok = False
        if fmt_from_url is not None:
            self.format.data = fmt_from_url
        if self.format.data not in export.FORMATS:
            self.format.errors = [error_text("format_unknown", "export")]
            ok = False
        return ok

    @staticmethod
    def _day(field) -> date | None:
        text = (field.data or "").strip()
        field.errors = []
        if not text:
            return None
        try:
            day = date.fromisoformat(text)
        except ValueError:
            day = None
        if day is None or len(text) != len("2026-11-20"):  # not 20261120, nor a week date
            field.errors = [error_text("date_invalid", "export")]
            return None
        return day

    def errors_in_words(self) -> list[str]:
        """Every error, one line each (the downloads' plain-text 400)."""
        return [
            str(e)
            for f in (self.brand, self.created_from, self.created_to, self.format)
            for e in f.errors
        ]

    def parameters(self) -> dict[str, str]:
        """The download's query parameters (empty ones left out)."""
        values = {
            "brand": self.brand.data,
            "from": self.created_from.data,
            "to": self.created_to.data,
        }
        return {key: value.strip() for key, value in values.items() if value and value.strip()}
