"""Flask's signed-cookie session, with its signing serializer built once instead of per request.

Flask builds a new URLSafeTimedSerializer to open and again to save each session, and every
construction test-serializes a value: about a tenth of the time of a cached public page.
"""

from flask.sessions import SecureCookieSessionInterface


class SessionInterface(SecureCookieSessionInterface):
    def __init__(self):
        self._serializers: dict = {}

    def get_signing_serializer(self, app):
        key = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        serializer = self._serializers.get(key)
        if serializer is None:
            serializer = super().get_signing_serializer(app)
            self._serializers = {key: serializer}  # a new key replaces the old serializer
        return serializer
