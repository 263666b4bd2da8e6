"""The request class: htmx-aware, and refusing form bodies that no form could have sent."""

from htmx_flask.requests import HtmxAwareRequest
from werkzeug.exceptions import BadRequest
from werkzeug.formparser import FormDataParser


class _FormDataParser(FormDataParser):
    """A multipart part without a name becomes a field named None, which Flask-WTF's CSRF
    check (and any code iterating the form) cannot handle: such a body is a clean 400."""

    def parse(self, stream, mimetype, content_length, options=None):
        stream, form, files = super().parse(stream, mimetype, content_length, options)
        if None in form or None in files:
            for storage in files.values():
                storage.close()
            raise BadRequest("A form part without a name.")
        return stream, form, files


class PortalRequest(HtmxAwareRequest):
    form_data_parser_class = _FormDataParser
