"""Single sign-on from a brand's own site: /<brand>/access/jwt (HS256, shared secret per brand)."""

from portal.blueprints.account import bp  # noqa: F401
