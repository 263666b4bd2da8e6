"""Form fields the blueprints share: every value posted under one name."""

from wtforms import Field


class StringListField(Field):
    """Every string posted under the field's name, in order (one checkbox per row, a multiple
    select, a repeated hidden input); an empty list when none was posted."""

    def process_data(self, value):
        self.data = list(value or [])

    def process_formdata(self, valuelist):
        self.data = list(valuelist)
