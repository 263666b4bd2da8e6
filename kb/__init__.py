"""The knowledge-base domain: content model, visibility, locales, Markdown, search, publishing."""
