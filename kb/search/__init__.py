"""Search over visible article translations. The database engine is the always-there fallback."""

from kb.search.database import SearchQuery, SearchResults, search

__all__ = ["SearchQuery", "SearchResults", "search"]
