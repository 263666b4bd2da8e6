"""The public help center: /, /<brand>/ and /<brand>/<locale>/..."""

from flask import Blueprint

from portal.blueprints.helpcenter import readings

bp = Blueprint("helpcenter", __name__)
bp.record_once(lambda state: readings.init_app(state.app))

# Route modules register on bp; imported last, as they need it.
from portal.blueprints.helpcenter import files  # noqa: E402,F401,I001
from portal.blueprints.helpcenter import sitemap  # noqa: E402,F401,I001
from portal.blueprints.helpcenter import views  # noqa: E402,F401,I001
from portal.blueprints.helpcenter import theme_files  # noqa: E402,F401,I001
