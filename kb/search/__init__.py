"""Search: one narrow interface, Whoosh behind it, the database as the always-there fallback.

index = WhooshIndex(path)                  # the engine (another could serve behind this)
index.update(documents.documents(...))     # index translations; index.update([], [ids])
index.search(SearchRequest(...))           # query with visibility filters inside the index
index.suggest(request)                     # "did you mean"
index.stamps()                             # for check: what the index holds
"""

from kb.search.database import search as database_search
from kb.search.documents import Document, document_for
from kb.search.index import IndexUnavailable, WhooshIndex
from kb.search.query import Hit, SearchRequest, SearchResults, clean_text

__all__ = [
    "Document",
    "Hit",
    "IndexUnavailable",
    "SearchRequest",
    "SearchResults",
    "WhooshIndex",
    "clean_text",
    "database_search",
    "document_for",
]
