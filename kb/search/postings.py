"""Query evaluation over decoded postings, kept in memory for the terms visitors search.

Whoosh's matchers decode each posting block (zlib and pickle, positions included) and score one
document at a time in Python. A very common Korean bigram, in most of 20,000 articles, then costs
about 20 ms to read and as much again to score, on every search. Here a term's postings are
decoded once per searcher, block by block, into {document number: BM25 contribution}, and kept in
a bounded LRU cache; a query is then set operations on those dicts and one sum per term.

The scores are Whoosh's own BM25F (same idf, B, K1 and field lengths), so ranking does not
change with the engine's internals. Queries are the usual whoosh.query objects (Term, Prefix,
And, Or with minmatch, AndMaybe), so kb.search.query builds them as before.
"""

import math
import threading
from collections import OrderedDict

from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher, _lenfield
from whoosh.query import And, AndMaybe, Or, Prefix, Term
from whoosh.util.numeric import byte_to_length

B = 0.75  # whoosh.scoring.BM25F's defaults
K1 = 1.2
MAX_CACHED_POSTINGS = 600_000  # entries over all cached terms (about 60 MB)
MAX_PREFIX_TERMS = 200  # a one-character CJK word: the bigrams it starts, at most
_LENGTHS = [byte_to_length(b) for b in range(256)]


class Postings:
    """The decoded postings of one searcher's terms (discard it when the searcher changes)."""

    def __init__(self, searcher, max_entries: int = MAX_CACHED_POSTINGS):
        self.searcher = searcher
        self.max_entries = max_entries
        self._cache: OrderedDict = OrderedDict()
        self._entries = 0
        self._lengths: dict = {}
        self._lock = threading.Lock()

    # -- terms ---------------------------------------------------------------------------

    def term(self, field: str, text: str) -> dict[int, float]:
        return self._cached((field, "term", text), lambda: self._decode(field, text))

    def prefix(self, field: str, text: str) -> dict[int, float]:
        def union():
            merged: dict[int, float] = {}
            reader = self.searcher.reader()
            for i, term in enumerate(reader.expand_prefix(field, text)):
                if i >= MAX_PREFIX_TERMS:
                    break
                for doc, score in self._decode(field, term.decode("utf-8")).items():
                    merged[doc] = merged.get(doc, 0.0) + score
            return merged

        return self._cached((field, "prefix", text), union)

    def _cached(self, key, compute) -> dict[int, float]:
        with self._lock:
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
                return found
        value = compute()
        with self._lock:
            if key not in self._cache:
                self._cache[key] = value
                self._entries += len(value)
                while self._entries > self.max_entries and len(self._cache) > 1:
                    _, old = self._cache.popitem(last=False)
                    self._entries -= len(old)
        return value

    def _decode(self, field: str, text: str) -> dict[int, float]:
        searcher = self.searcher
        schema_field = searcher.schema[field] if field in searcher.schema else None
        if schema_field is None:
            return {}
        btext = schema_field.to_bytes(text)
        out: dict[int, float] = {}
        if not schema_field.scorable:
            for leaf, offset in searcher.reader().leaf_readers():
                if (field, btext) in leaf:
                    for doc, weight in _weights(leaf.postings(field, btext)):
                        out[doc + offset] = weight
            return out
        df = searcher.doc_frequency(field, btext)
        idf = math.log(searcher.doc_count_all() / (df + 1)) + 1
        avg = searcher.avg_field_length(field) or 1
        # bm25(idf, tf, fl, avgfl) = idf * tf * (K1 + 1) / (tf + K1 * ((1 - B) + B * fl / avgfl))
        top = idf * (K1 + 1)
        base, per_length = K1 * (1 - B), K1 * B / avg
        for leaf, offset in searcher.reader().leaf_readers():
            if (field, btext) not in leaf:
                continue
            lengths = self._field_lengths(leaf, field)
            for doc, tf in _weights(leaf.postings(field, btext)):
                out[doc + offset] = top * tf / (tf + base + per_length * lengths(doc))
        return out

    def _field_lengths(self, leaf, field: str):
        key = (id(leaf), field)
        found = self._lengths.get(key)
        if found is None:
            column = _length_column(leaf, field)
            if column is not None:
                table = [_LENGTHS[b] or 1 for b in column]
                found = table.__getitem__
            else:  # another codec: ask per document
                found = lambda doc: leaf.doc_field_length(doc, field, 1)  # noqa: E731
            self._lengths[key] = found
        return found

    # -- queries -------------------------------------------------------------------------

    def evaluate(self, query) -> tuple[set[int], list[dict[int, float]]]:
        """The documents a query matches, and the score parts to add up for them."""
        if isinstance(query, Term):
            scores = self.term(query.fieldname, query.text)
            return set(scores), [_boosted(scores, query.boost)]
        if isinstance(query, Prefix):
            scores = self.prefix(query.fieldname, query.text)
            return set(scores), [_boosted(scores, query.boost)]
        if isinstance(query, AndMaybe):
            docs, parts = self.evaluate(query.a)
            _, extra = self.evaluate(query.b)
            return docs, parts + extra
        if isinstance(query, And):
            evaluated = [self.evaluate(q) for q in query.subqueries]
            evaluated.sort(key=lambda e: len(e[0]))
            docs = evaluated[0][0] if evaluated else set()
            for other, _ in evaluated[1:]:
                docs = docs & other
            return docs, [part for _, parts in evaluated for part in parts]
        if isinstance(query, Or):
            evaluated = [self.evaluate(q) for q in query.subqueries]
            parts = [part for _, ps in evaluated for part in ps]
            need = max(1, query.minmatch or 1)
            if need <= 1:
                docs = set().union(*(d for d, _ in evaluated))
            else:
                counts: dict[int, int] = {}
                for d, _ in evaluated:
                    for doc in d:
                        counts[doc] = counts.get(doc, 0) + 1
                docs = {doc for doc, n in counts.items() if n >= need}
            return docs, parts
        return set(), []  # NullQuery and anything else matches nothing

    @staticmethod
    def score(docs: set[int], parts: list[dict[int, float]]) -> dict[int, float]:
        """Sum of the score parts, for the given documents only."""
        total = dict.fromkeys(docs, 0.0)
        for part in parts:
            if len(part) < len(docs):
                for doc, value in part.items():
                    if doc in total:
                        total[doc] += value
            else:
                get = part.get
                for doc in docs:
                    total[doc] += get(doc, 0.0)
        return total


def _boosted(scores: dict[int, float], boost: float) -> dict[int, float]:
    if boost == 1.0:
        return scores
    return {doc: value * boost for doc, value in scores.items()}


def _weights(matcher):
    """(document number, weight) of every posting, a whole block at a time when the matcher is
    Whoosh 2.7's on-disk one (the per-posting interface costs a Python call each)."""
    if isinstance(matcher, W3LeafMatcher) and hasattr(matcher, "_read_weights"):
        while matcher.is_active():
            matcher._read_ids()
            matcher._read_weights()
            yield from zip(matcher._ids, matcher._weights, strict=True)
            matcher._next_block()
        return
    while matcher.is_active():
        yield matcher.id(), matcher.weight()
        matcher.next()


def _length_column(leaf, field: str):
    perdoc = getattr(leaf, "_perdoc", None)
    if perdoc is None or not hasattr(perdoc, "_cached_reader"):
        return None
    reader = perdoc._cached_reader(_lenfield(field), LENGTHS_COLUMN)
    return list(reader) if reader is not None else None
