"""Flask extensions, created unbound and bound to the app in create_app()."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from htmx_flask import Htmx

from kb.db import Base
from portal.web.addresses import client_ip

db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True, compare_type=True)
csrf = CSRFProtect()
babel = Babel()
login = LoginManager()
htmx = Htmx()
# Storage comes from RATELIMIT_STORAGE_URI: memory:// by default, Redis when REDIS_URL is set.
limiter = Limiter(key_func=client_ip, default_limits=[])
