"""The Whoosh engine: one document per article translation, filtered inside the index.

Fields per analyser family (title_ko, body_ko, title_en, ...) let each locale have its own
analyser; visibility (brand, locale, status, publish window) are indexed fields, so every query
carries its filter and nothing from another brand or a hidden article can match, be counted in
a facet, or appear in a snippet.
"""

import functools
import heapq
import logging
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from markupsafe import escape
from whoosh import index as whoosh_index
from whoosh.fields import BOOLEAN, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.highlight import (
    FIRST,
    BasicFragmentScorer,
    ContextFragmenter,
    Formatter,
    top_fragments,
)
from whoosh.query import And, NumericRange, Or, Term
from whoosh.scoring import BM25F

from kb.search.analysis import (
    CJK_LOCALES,
    WordPairTokenizer,
    analyzer_for,
    has_cjk,
    normalise,
    pair_terms,
    words_analyzer,
)
from kb.search.documents import FOREVER, Document
from kb.search.postings import Postings
from kb.search.query import (
    Hit,
    SearchRequest,
    SearchResults,
    build_query,
    phrase_ok,
    typed_prefix,
    word_queries,
)

log = logging.getLogger(__name__)

FAMILIES = ("ko", "ja", "zh", "en", "sv", "xx")  # xx: any other locale, a plain analyser
TITLE_BOOST = 3.0
# Raised when an analyser changes what terms a text becomes: an index built before then
# lacks the field named after it, counts as missing, and is rebuilt.
ANALYSIS_VERSION = 2
WRITE_TIMEOUT = 15.0


def family(locale: str) -> str:
    return locale if locale in FAMILIES else "xx"


def schema() -> Schema:
    fields = {
        "id": ID(unique=True, stored=True),
        "article_id": NUMERIC(int, bits=64, stored=True, sortable=True),
        "brand_id": ID(),
        "locale": ID(stored=True),
        "kind": ID(stored=True, sortable=True),
        "section_id": ID(stored=True, sortable=True),
        "labels": KEYWORD(commas=True, lowercase=True),
        "status": ID(),
        "publish_at": NUMERIC(int, bits=64, sortable=True),
        "unpublish_at": NUMERIC(int, bits=64, sortable=True),
        "promoted": BOOLEAN(),
        "audience": ID(),  # (indexes of an older version; "audiences" is read now)
        "audiences": KEYWORD(),
        "stamp": STORED(),
        "title": STORED(),
        "text": STORED(),
        # Unstemmed words of Latin-script text, for "did you mean".
        "words": TEXT(analyzer=words_analyzer(), spelling=True),
        # Neighbouring words, to find a quoted phrase's candidates (not scored).
        "pairs": TEXT(analyzer=WordPairTokenizer(), phrase=False),
        f"analysis_v{ANALYSIS_VERSION}": STORED(),
    }
    for fam in FAMILIES:
        analyzer = analyzer_for(fam)
        fields[f"title_{fam}"] = TEXT(analyzer=analyzer, phrase=False, field_boost=TITLE_BOOST)
        fields[f"body_{fam}"] = TEXT(analyzer=analyzer, phrase=False)
    return Schema(**fields)


def _fields(doc: Document) -> dict:
    fam = family(doc.locale)
    out = {
        "id": str(doc.translation_id),
        "article_id": doc.article_id,
        "brand_id": str(doc.brand_id),
        "locale": doc.locale,
        "kind": doc.kind,
        "section_id": str(doc.section_id),
        "labels": ",".join(doc.labels),
        "status": doc.status,
        "publish_at": doc.publish_at,
        "unpublish_at": doc.unpublish_at,
        "promoted": doc.promoted,
        "audience": "public",
        "audiences": " ".join(doc.audiences),
        "stamp": doc.stamp,
        "title": doc.title,
        "text": doc.text,
        f"title_{fam}": doc.title,
        f"body_{fam}": doc.text,
        "pairs": f"{doc.title}\n{doc.text}",
    }
    if fam not in CJK_LOCALES:
        out["words"] = f"{doc.title} {doc.text}"
    return out


class MarkFormatter(Formatter):
    """Snippets as escaped text with <mark> around matches.

    A CJK word is matched as overlapping bigrams (パスワード: パス スワ ワー ード); Whoosh's
    formatter drops a token that overlaps the one before, which marked パス and ワー and left ド
    out. Here overlapping or touching matches are one span, and a fragment starts and ends at a
    word boundary rather than inside a word."""

    between = " … "

    def format_fragment(self, fragment, replace=False):
        text = fragment.text
        spans: list[list[int]] = []
        for t in sorted(fragment.matches, key=lambda t: (t.startchar, t.endchar)):
            if t.startchar is None:
                continue
            if spans and t.startchar <= spans[-1][1]:
                spans[-1][1] = max(spans[-1][1], t.endchar)
            else:
                spans.append([t.startchar, t.endchar])
        first = spans[0][0] if spans else fragment.startchar
        last = spans[-1][1] if spans else fragment.endchar
        start = _word_start(text, min(fragment.startchar, first), first)
        end = _word_end(text, max(fragment.endchar, last), last)
        output, index = [], start
        for span_start, span_end in spans:
            output.append(self._text(text[index:span_start]))
            output.append(f"<mark>{escape(text[span_start:span_end])}</mark>")
            index = span_end
        output.append(self._text(text[index:end]))
        return "".join(output)

    def _text(self, text):
        return str(escape(text))


_BOUNDARY = frozenset(" \t\n\r\u3000、。，．！？「」『』（）・,.;:!?()")
WORD_REACH = 20  # characters looked at, either way, for a word boundary


def _word_start(text: str, start: int, first_match: int) -> int:
    """Back to the start of the word `start` falls in (or on to the next word, if none is
    near), never past the first match."""
    if start <= 0 or text[start - 1] in _BOUNDARY:
        return start
    for i in range(start - 1, max(-1, start - WORD_REACH - 1), -1):
        if text[i] in _BOUNDARY:
            return i + 1
    if start - WORD_REACH <= 0:
        return 0
    for i in range(start, first_match):
        if text[i] in _BOUNDARY:
            return i + 1
    return start


def _word_end(text: str, end: int, last_match: int) -> int:
    """On to the end of the word `end` falls in (or back to the last whole word)."""
    if end >= len(text) or text[end] in _BOUNDARY:
        return end
    for i in range(end, min(len(text), end + WORD_REACH)):
        if text[i] in _BOUNDARY:
            return i
    for i in range(end - 1, last_match - 1, -1):
        if text[i] in _BOUNDARY:
            return i
    return end


class IndexUnavailable(RuntimeError):
    """The index is missing or cannot be read; callers fall back to the database search."""


def _one_reader(method):
    """One reading of the shared searcher at a time: Whoosh's readers keep file positions,
    so two threads reading at once read each other's bytes ("Block tag error", IndexError)."""

    @functools.wraps(method)
    def locked(self, *args, **kwargs):
        with self._reading:
            return method(self, *args, **kwargs)

    return locked


class WhooshIndex:
    """One index directory; a searcher kept open and refreshed when the index changes, read
    by one thread at a time."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._reading = threading.RLock()
        self._index = None
        self._searcher = None
        self._visible_cache: dict = {}
        self._searcher_state: _SearcherState | None = None

    # -- opening -------------------------------------------------------------------------

    def exists(self) -> bool:
        """An index is here, readable, and built with the fields this version queries (one
        from an older version counts as missing, so it is rebuilt)."""
        try:
            if not (self.path.is_dir() and whoosh_index.exists_in(str(self.path))):
                return False
            on_disk = whoosh_index.open_dir(str(self.path)).schema
        except Exception:  # a damaged table of contents raises Whoosh's own errors
            return False
        return set(schema().names()) <= set(on_disk.names())

    def create(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        whoosh_index.create_in(str(self.path), schema())
        self.close()

    def _open(self):
        if self._index is None:
            if not self.exists():
                raise IndexUnavailable(f"no search index (or a damaged one) at {self.path}")
            try:
                self._index = whoosh_index.open_dir(str(self.path))
            except Exception as exc:  # Whoosh raises many kinds on damaged files
                raise IndexUnavailable(f"cannot open the search index: {exc}") from exc
        return self._index

    def searcher(self):
        with self._lock:
            ix = self._open()
            try:
                if self._searcher is None:
                    self._searcher = ix.searcher(weighting=BM25F())
                elif not self._searcher.up_to_date():
                    self._searcher = self._searcher.refresh()
            except Exception as exc:
                self._searcher = None
                self._index = None
                raise IndexUnavailable(f"cannot read the search index: {exc}") from exc
            return self._searcher

    @_one_reader
    def close(self) -> None:
        with self._lock:
            if self._searcher is not None:
                self._searcher.close()
            self._searcher = None
            self._index = None

    # -- writing -------------------------------------------------------------------------

    def update(self, docs: Iterable[Document], delete_ids: Iterable[int] = ()) -> int:
        """Add or replace documents and delete others, in one commit."""
        ix = self._open()
        writer = ix.writer(timeout=WRITE_TIMEOUT)
        count = 0
        try:
            for translation_id in delete_ids:
                writer.delete_by_term("id", str(translation_id))
            for doc in docs:
                writer.update_document(**_fields(doc))
                count += 1
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        return count

    def rebuild(self, docs: Iterable[Document], progress=None) -> int:
        """Build a fresh index beside this one, then swap it in."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fresh = Path(tempfile.mkdtemp(prefix=self.path.name + ".new-", dir=self.path.parent))
        ix = whoosh_index.create_in(str(fresh), schema())
        writer = ix.writer(limitmb=128, procs=1)
        count = 0
        try:
            for doc in docs:
                writer.add_document(**_fields(doc))
                count += 1
                if progress:
                    progress(1)
        except BaseException:
            writer.cancel()
            shutil.rmtree(fresh, ignore_errors=True)
            raise
        writer.commit()
        self.close()
        old = Path(tempfile.mkdtemp(prefix=self.path.name + ".old-", dir=self.path.parent))
        if self.path.exists():
            os.replace(self.path, old / "index")
        os.replace(fresh, self.path)
        shutil.rmtree(old, ignore_errors=True)
        return count

    @_one_reader
    def stamps(self) -> dict[int, str]:
        """translation id -> stamp of every document (for `search check`)."""
        searcher = self.searcher()
        return {
            int(fields["id"]): fields["stamp"]
            for fields in searcher.all_stored_fields()
            if "id" in fields
        }

    # -- reading -------------------------------------------------------------------------

    @_one_reader
    def search(self, request: SearchRequest) -> SearchResults:
        searcher = self.searcher()
        results = self._search(searcher, request, relaxed=False)
        if results.total == 0 and not request.phrases:
            # Nothing has every word: try again with most of them (compounds written apart,
            # other particles or endings, inflected Swedish).
            results = self._search(searcher, request, relaxed=True)
        return results

    def _search(self, searcher, request: SearchRequest, relaxed: bool) -> SearchResults:
        empty = SearchResults(hits=[], total=0, page=request.page, per_page=request.per_page)
        query = build_query(request, family, relaxed=relaxed)
        if query is None:
            return empty
        state = self._state(searcher)
        visible = self._visible_docs(searcher, request)
        if not isinstance(visible, set):  # an index without the publish columns: reindex
            visible = set(searcher.search(visible, limit=None, scored=False).docs())
        matched, parts = state.postings.evaluate(query)
        matched &= visible
        for pair in {t for phrase in request.phrases for t in pair_terms(phrase)}:
            matched &= state.postings.term("pairs", pair).keys()
        if not matched:
            return empty
        if request.phrases:
            # Quoted phrases: the words' documents are the candidates; each is checked against
            # its text in score order (the best first, up to a budget; beyond it the total and
            # the facets are estimated from the share that passed).
            scores = state.postings.score(matched, parts)
            ranked = sorted(scores, key=lambda d: (-scores[d], d))
            passed, checked = [], 0
            for doc in ranked:
                if checked >= PHRASE_CHECKS:
                    break
                checked += 1
                fields = searcher.stored_fields(doc)
                if phrase_ok(request, fields["title"], fields["text"]):
                    passed.append(doc)
            if checked == len(ranked):
                return self._page(searcher, state, request, set(passed), passed, scores, 1.0)
            share = len(passed) / checked
            results = self._page(searcher, state, request, matched, passed, scores, share)
            results.approximate = True
            return results
        scores = state.postings.score(matched, parts)
        every = None
        queries = word_queries(request, family) if relaxed else []
        if len(queries) > 1:
            # The documents with every word (another particle or ending allowed): a page
            # showing others shows results for some of the visitor's words.
            every = set.intersection(*(state.postings.evaluate(q)[0] for q in queries))
        return self._page(searcher, state, request, matched, None, scores, 1.0, every)

    def _page(
        self, searcher, state, request, matched, ranked, scores, share, every=None
    ) -> SearchResults:
        """Facets over every match, then the section/kind choice, then the page of hits (one
        per article, its best-scoring language); partial if `every` (the documents with every
        word) is given and a hit is not among them."""
        many = len(request.locales) > 1
        articles = state.column("article_id")

        def count(docs) -> int:
            n = len({articles[d] for d in docs}) if many else len(docs)
            return n if share == 1.0 else round(n * share)

        sections, kinds = state.column("section_id"), state.column("kind")
        by_section, by_kind = {}, {}
        for doc in matched:
            by_section.setdefault(sections[doc], []).append(doc)
            by_kind.setdefault(kinds[doc], []).append(doc)
        facets = {
            "section": {int(k): count(v) for k, v in by_section.items() if k},
            "kind": {k: count(v) for k, v in by_kind.items() if k},
        }
        chosen = matched
        if request.section_id:
            chosen = chosen & set(by_section.get(str(request.section_id), ()))
        if request.kind:
            chosen = chosen & set(by_kind.get(request.kind, ()))
        if ranked is None:
            window = request.page * request.per_page
            limit = window * len(request.locales)
            key = lambda d: (scores[d], -d)  # noqa: E731
            ranked = heapq.nlargest(limit, chosen, key=key)
            if many and len(ranked) < len(chosen) and len({articles[d] for d in ranked}) < window:
                ranked = sorted(chosen, key=key, reverse=True)
        else:
            ranked = [d for d in ranked if d in chosen]
        best, seen = [], set()
        for doc in ranked:
            if articles[doc] not in seen:
                seen.add(articles[doc])
                best.append(doc)
        start = (request.page - 1) * request.per_page
        hits = [
            self._hit(searcher, request, doc, scores[doc])
            for doc in best[start : start + request.per_page]
        ]
        total = max(count(chosen), len(best))
        shown = best[start : start + request.per_page]
        return SearchResults(
            hits=hits,
            total=total,
            page=request.page,
            per_page=request.per_page,
            facets=facets,
            partial=every is not None and any(doc not in every for doc in shown),
        )

    @staticmethod
    def _hit(searcher, request: SearchRequest, doc: int, score: float) -> Hit:
        fields = searcher.stored_fields(doc)
        return Hit(
            translation_id=int(fields["id"]),
            article_id=fields["article_id"],
            locale=fields["locale"],
            score=score,
            snippet=snippet(
                fields["text"], fields["locale"], request.words, begun=typed_prefix(request)
            ),
        )

    def _state(self, searcher) -> "_SearcherState":
        state = self._searcher_state
        if state is None or state.searcher is not searcher:
            state = self._searcher_state = _SearcherState(searcher)
        return state

    @_one_reader
    def suggest(self, request: SearchRequest) -> str | None:
        """A corrected Latin-script query, every word of which appears in a visible article of
        this brand (so no word of another brand's, or of a draft, is ever shown)."""
        searcher = self.searcher()
        words = normalise(request.text).replace('"', " ").split()
        if not words or any(any(ord(c) > 0x2FF for c in w) for w in words):
            return None
        visible = self._visible_docs(searcher, request)
        corrector = searcher.corrector("words")
        fixed, changed = [], False
        for word in words[:MAX_SUGGEST_WORDS]:
            if len(word) < 3 or self._present(searcher, word, visible):
                fixed.append(word)
                continue
            # A word of one or two letters is never what someone meant by three or more.
            candidates = [c for c in corrector.suggest(word, limit=20, maxdist=2) if len(c) >= 3]
            ranked = sorted(
                candidates,
                key=lambda c: (_distance(word, c), -searcher.doc_frequency("words", c), c),
            )
            choice = next((c for c in ranked if self._present(searcher, c, visible)), None)
            if choice is None:
                return None
            fixed.append(choice)
            changed = True
        return " ".join(fixed) if changed else None

    @staticmethod
    def _present(searcher, word: str, visible) -> bool:
        if isinstance(visible, set) and not visible:
            return False
        return not searcher.search(Term("words", word), filter=visible, limit=1).is_empty()

    def _visible_docs(self, searcher, request: SearchRequest):
        """The document numbers a visitor may see now, for one brand and set of locales.

        Whoosh turns open-ended numeric ranges into a walk over every document, for every
        search; here the set is computed once from the publish columns and kept until the
        searcher changes or the brand's next publish or unpublish moment comes.
        """
        reader = searcher.reader()
        if not (reader.has_column("publish_at") and reader.has_column("unpublish_at")):
            return self._visible(request)  # an index built before the columns: reindex
        now = request.now_epoch
        key = (request.brand_id, request.locales, request.org_id)
        cached = self._visible_cache.get(key)
        if cached and cached[0] is searcher and cached[1] <= now < cached[2]:
            return cached[3]
        base = searcher.search(
            And(
                [
                    Term("brand_id", str(request.brand_id)),
                    Or([Term("locale", loc) for loc in request.locales]),
                    Term("status", "published"),
                    self._audiences(request),
                ]
            ),
            limit=None,
            scored=False,
        ).docs()
        publish = reader.column_reader("publish_at")
        unpublish = reader.column_reader("unpublish_at")
        visible, next_change = set(), FOREVER
        for doc in base:
            start, end = publish[doc], unpublish[doc]
            if start <= now < end:
                visible.add(doc)
            if start > now:
                next_change = min(next_change, start)
            if end > now:
                next_change = min(next_change, end)
        if len(self._visible_cache) > 256:
            self._visible_cache.clear()
        self._visible_cache[key] = (searcher, now, next_change, visible)
        return visible

    @staticmethod
    def _audiences(request: SearchRequest):
        """Public documents, and those of restricted sections open to the reader's organization."""
        if request.org_id is None:
            return Term("audiences", "public")
        return Or([Term("audiences", "public"), Term("audiences", f"org-{request.org_id}")])

    @staticmethod
    def _visible(request: SearchRequest):
        return And(
            [
                Term("brand_id", str(request.brand_id)),
                Or([Term("locale", loc) for loc in request.locales]),
                Term("status", "published"),
                WhooshIndex._audiences(request),
                NumericRange("publish_at", None, request.now_epoch),
                NumericRange("unpublish_at", request.now_epoch + 1, None),
            ]
        )

    @_one_reader
    def ids_for_brand(self, brand_id: int) -> set[int]:
        """Translation ids the index holds for one brand."""
        searcher = self.searcher()
        found = searcher.search(Term("brand_id", str(brand_id)), limit=None, scored=False)
        return {int(hit["id"]) for hit in found}


MAX_SUGGEST_WORDS = 6
SNIPPET_WINDOW = 480  # characters of text analysed for a snippet, around the first match


def snippet(text: str, locale: str, words: list[str], begun: str | None = None) -> str:
    """Up to two fragments of the text with the query's terms in <mark>, escaped (and the
    words that `begun`, a word still being typed, is the beginning of).

    Only a window around the first place a term appears is analysed (an article can be long,
    and the analyser is Python)."""
    folded = normalise(text)
    typed = set(words)
    if begun:
        typed.update(re.findall(rf"\b{re.escape(begun)}\w*", folded)[:50])
    wanted = _word_terms(locale, typed, folded)
    if len(folded) != len(text):  # NFKC changed lengths: offsets would not match
        folded = text.lower()
    # The first whole query word; failing that, the first of its terms.
    first = min((i for w in wanted if (i := folded.find(w.surface)) >= 0), default=None)
    if first is None:
        terms_ = {t for w in wanted for t in w.terms}
        first = min((i for t in terms_ if (i := folded.find(t)) >= 0), default=0)
    start = max(0, first - SNIPPET_WINDOW // 6)
    if start:
        space = text.find(" ", start, first)
        start = space + 1 if space >= 0 else start
    window = text[start : start + SNIPPET_WINDOW]
    analyzer = analyzer_for(family(locale))
    tokens = [t.copy() for t in analyzer(window, chars=True, mode="query", removestops=False)]
    _match_whole_words(tokens, wanted)
    fragments = ContextFragmenter(maxchars=160, surround=40).fragment_tokens(window, tokens)
    fragments = top_fragments(fragments, 2, BasicFragmentScorer(), FIRST, 1)
    marked = MarkFormatter()(window, fragments)
    return marked or str(escape(text[:200]))


@dataclass(frozen=True)
class _WordTerms:
    """A query word's part as index terms in order (a CJK run: its bigrams; a Latin word: its
    one term) and the normalised text it stands for."""

    terms: tuple[str, ...]
    surface: str


def _runs(tokens) -> list[list]:
    """Tokens grouped into CJK runs (overlapping bigrams, one character apart); any other token
    is a group of its own."""
    groups: list[list] = []
    for t in tokens:
        previous = groups[-1][-1] if groups else None
        if (
            previous is not None
            and has_cjk(t.text)
            and has_cjk(previous.text)
            and t.startchar == previous.startchar + 1
            and previous.endchar - previous.startchar == 2
        ):
            groups[-1].append(t)
        else:
            groups.append([t])
    return groups


ENDING_CHARS = 2  # characters of a CJK query word that may be another particle or ending


def _word_terms(locale: str, words, folded: str) -> frozenset[_WordTerms]:
    """The query words' parts to mark. A CJK word the text does not hold whole (typed with
    another particle or ending, 결제수단이 for 결제수단을, as the relaxed pass finds it) stands
    for its beginning, one or two characters shorter, if the text holds that."""
    analyzer = analyzer_for(family(locale))
    found = set()
    for word in words:
        text = normalise(word)
        tokens = [t.copy() for t in analyzer(text, chars=True) if t.text]
        for group in _runs(tokens):
            terms = tuple(t.text for t in group)
            surface = text[group[0].startchar : group[-1].endchar]
            if not has_cjk(surface):
                found.add(_WordTerms(terms, group[0].text))
                continue
            chosen = _WordTerms(terms, surface)
            if surface not in folded:
                for cut in range(1, ENDING_CHARS + 1):
                    if len(surface) - cut < 2:
                        break
                    if surface[:-cut] in folded:
                        chosen = _WordTerms(terms[:-cut], surface[:-cut])
                        break
            found.add(chosen)
    return frozenset(found)


def _match_whole_words(tokens, wanted: frozenset[_WordTerms]) -> None:
    """Sets `matched` on the tokens that are part of a whole query word: in a CJK run, only a
    stretch of consecutive bigrams that is all of a query word's bigrams in order (パスワード,
    not the ード of バーコード; 비밀번호, not the 번호 of 인증번호)."""
    for t in tokens:
        t.matched = False
    for group in _runs(tokens):
        texts = [t.text for t in group]
        for word in wanted:
            n = len(word.terms)
            for i in range(len(texts) - n + 1):
                if tuple(texts[i : i + n]) == word.terms:
                    for t in group[i : i + n]:
                        t.matched = True


PHRASE_CHECKS = 300  # candidates checked for a quoted phrase before the counts are estimated


class _SearcherState:
    """What one searcher's queries share: decoded postings and columns read once."""

    def __init__(self, searcher):
        self.searcher = searcher
        self.postings = Postings(searcher)
        self._columns: dict[str, list] = {}

    def column(self, name: str) -> list:
        found = self._columns.get(name)
        if found is None:
            reader = self.searcher.reader()
            if reader.has_column(name):
                found = list(reader.column_reader(name))
            else:  # an index built before the column: from the stored fields
                found = [
                    (fields or {}).get(name)
                    for fields in (
                        reader.stored_fields(d) if not reader.is_deleted(d) else None
                        for d in range(reader.doc_count_all())
                    )
                ]
            self._columns[name] = found
        return found


def _distance(a: str, b: str) -> int:
    """Damerau-Levenshtein distance (a swap of neighbours counts once: invioce -> invoice)."""
    rows = [list(range(len(b) + 1))]
    for i, ca in enumerate(a, 1):
        row = [i]
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            row.append(min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + cost))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]
