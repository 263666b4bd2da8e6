"""The knowledge-base domain: content model, visibility, locales, Markdown, search, publishing."""

# Whoever uses the models gets the content-version listeners: kb.changes builds on kb.models,
# which therefore need not import it back.
from kb import changes  # noqa: E402,F401
