"""Search requests: parsing what a visitor typed into index queries, safely.

The visitor's text never reaches Whoosh's query parser: no field prefixes, wildcards or
operators. Words become the locale's analyser terms; quoted phrases are matched as words and
then checked as phrases on the best candidates.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime

from whoosh.query import And, AndMaybe, Or, Prefix, Term

from kb.search.analysis import CJK_LOCALES, analyzer_for, has_cjk, normalise

MAX_QUERY_CHARS = 200
MAX_WORDS = 10
PER_PAGE = 10
_PHRASE = re.compile(r'"([^"]+)"')
KO_FUNCTION_WORDS = frozenset(
    "수 것 등 및 또 더 그 이 저 때 중 할 될 된 한".split() + "의 를 을 에 가 는 도".split()
)
# Words typed apart that say nothing beside the others (English and Swedish ones are dropped by
# their analysers' stop lists; Korean and Japanese are indexed as bigrams, so their function
# words are left out here, as whole typed words, when other words remain).
CJK_STOP_WORDS = {
    "ko": KO_FUNCTION_WORDS
    | frozenset(
        "어떻게 왜 좀 안 못 뭐 무엇 어디 어디서 언제 제 내 저의 나의 있나요 하나요".split()
    ),
    "ja": frozenset(
        "の に は を が で と も や か へ から まで より です ます ですか ください する した"
        " して したい できる できない どう どうやって どうすれば なぜ いつ どこ 私 わたし".split()
    ),
}
SENTENCE_WORDS = 3  # typed words from which a query is a sentence, not a few keywords


@dataclass(frozen=True)
class SearchRequest:
    brand_id: int
    locales: tuple[str, ...]
    text: str
    now: datetime
    section_id: int | None = None
    kind: str | None = None
    page: int = 1
    per_page: int = PER_PAGE
    org_id: int | None = None  # the reader's customer organization (restricted sections)
    prefix_last: bool = False  # the last word is still being typed (instant search)

    @property
    def now_epoch(self) -> int:
        return int(self.now.timestamp())

    @property
    def phrases(self) -> list[str]:
        return [normalise(p).strip() for p in _PHRASE.findall(self.text) if p.strip()]

    @property
    def words(self) -> list[str]:
        plain = _PHRASE.sub(" ", self.text).replace('"', " ")
        out = [w for w in normalise(plain).split()]
        for phrase in self.phrases:
            parts = phrase.split()
            # A one-character CJK word inside a phrase (그, 이, 수) is in nearly every document;
            # the phrase's word pairs and the check of its text stand for it.
            out.extend(w for w in parts if len(parts) == 1 or not _lone_cjk(w))
        if any(not _lone_cjk(w) for w in out):
            # Korean one-syllable function words (할 수 있다, 그 것) say nothing beside others.
            out = [w for w in out if w not in KO_FUNCTION_WORDS]
        return out[:MAX_WORDS]


@dataclass
class Hit:
    translation_id: int
    article_id: int
    locale: str
    score: float
    snippet: str  # HTML: escaped text with <mark> around matches


@dataclass
class SearchResults:
    hits: list[Hit]
    total: int
    page: int
    per_page: int = PER_PAGE
    facets: dict = field(default_factory=lambda: {"section": {}, "kind": {}})
    suggestion: str | None = None
    fallback: bool = False  # answered by the database search (index unavailable)
    partial: bool = False  # no article has every word: these have some of them
    approximate: bool = False  # the total and facets are estimates (a common quoted phrase)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def clean_text(text: str | None) -> str:
    text = "".join(ch for ch in (text or "") if ch.isprintable() or ch.isspace())
    return " ".join(text.split())[:MAX_QUERY_CHARS]


LABEL_BOOST = 2.0
PROMOTED_BOOST = 1.5


def _lone_cjk(word: str) -> bool:
    return len(word) == 1 and has_cjk(word)


def _cjk(term: str) -> bool:
    return not term.isascii()


def _term(name: str, term: str, fam: str):
    if fam in CJK_LOCALES and len(term) == 1 and _cjk(term):
        return Prefix(name, term)  # a lone character: any bigram it starts
    return Term(name, term)


def _loose(name: str, term: str, fam: str):
    """Relaxed pass: a Latin stem also matches longer words it starts (avbetalning ->
    avbetalningsplan, autogirot -> autogiro)."""
    if fam in CJK_LOCALES or len(term) < 5 or _cjk(term):
        return _term(name, term, fam)
    return Or([Term(name, term), Prefix(name, term[:-1] if len(term) > 6 else term)])


def _required(n: int, sentence: bool = False) -> int:
    """How many of a query's n terms must match in the relaxed pass: most of a few keywords
    (a particle or a compound written apart no longer hides the article), half of a sentence
    (`refund not received` finds the refund articles; those with more and rarer of its words,
    which BM25 scores higher, come first)."""
    if sentence:
        return max(1, -(-n // 2))
    return n if n <= 2 else max(2, -(-n * 3 // 5))


def _fields(fam: str) -> tuple[str, str]:
    return f"title_{fam}", f"body_{fam}"


MIN_PREFIX = 3  # letters of a word being typed before it is looked up as a beginning


def _begun(word: str, fam: str, prefix: bool):
    """A Latin-script word still being typed, as a beginning of the unstemmed words of the
    text (fak -> faktura, fakturan; refu -> refund), or None."""
    if not prefix or fam in CJK_LOCALES:
        return None
    return Prefix("words", word)


def typed_prefix(request: SearchRequest) -> str | None:
    """The last word, when it is still being typed (instant search), outside quotes, and
    long enough to look up as a beginning: Latin-script words only (Korean and Japanese are
    indexed as bigrams, so their first letters already match)."""
    if not request.prefix_last or not request.words or request.text.rstrip().endswith('"'):
        return None
    last = request.words[-1]
    return last if len(last) >= MIN_PREFIX and not has_cjk(last) else None


def _strict(terms: list[str], word: str, fam: str, prefix: bool = False):
    """Every term of one typed word, in the title or in the body, or the word as a label (or,
    for a word being typed, a word it begins)."""
    per_field = []
    for name in _fields(fam):
        parts = [_term(name, t, fam) for t in terms]
        per_field.append(And(parts) if len(parts) > 1 else parts[0])
    per_field.append(Term("labels", word, boost=LABEL_BOOST))
    begun = _begun(word, fam, prefix)
    if begun is not None:
        per_field.append(begun)
    return Or(per_field)


def content_words(request: SearchRequest, locale: str) -> list[tuple[str, list[str]]]:
    """The typed words that count in this locale, each with its index terms: stop words (and
    words the analyser drops) are left out, unless nothing else would remain."""
    analyzer = analyzer_for(locale)
    per_word = []
    for word in request.words:
        terms = [t.text for t in analyzer(word) if t.text]
        if terms:
            per_word.append((word, terms))
    stop = CJK_STOP_WORDS.get(locale, frozenset())
    kept = [(word, terms) for word, terms in per_word if word not in stop]
    return kept or per_word


def word_queries(request: SearchRequest, family) -> list:
    """One query per typed word that counts (in any requested locale), matching the documents
    that have it as the relaxed pass finds a word: most of its bigrams, its stem, the words it
    begins. A result of the relaxed pass that every one of them matches has all the words."""
    per_word: dict[str, list] = {}
    for locale in request.locales:
        fam = family(locale)
        for word, terms in content_words(request, locale):
            clauses = [
                Or([_loose(name, t, fam) for name in _fields(fam)] + [Term("labels", t)])
                for t in dict.fromkeys(terms)
            ]
            query = (
                clauses[0] if len(clauses) == 1 else Or(clauses, minmatch=_required(len(clauses)))
            )
            per_word.setdefault(word, []).append(query)
    return [qs[0] if len(qs) == 1 else Or(qs) for qs in per_word.values()]


def _locale_query(request: SearchRequest, locale: str, fam: str, relaxed: bool):
    per_word = content_words(request, locale)
    if not per_word:
        return None
    # Only the word typed last can be unfinished.
    typing = per_word[-1][0] == typed_prefix(request)
    if not relaxed:
        last = len(per_word) - 1
        parts = [
            _strict(terms, word, fam, typing and i == last)
            for i, (word, terms) in enumerate(per_word)
        ]
        return And(parts) if len(parts) > 1 else parts[0]
    # Relaxed: the query's terms pooled, most of them required (a particle or a space
    # between the words of a compound then no longer hides the article).
    pooled = list(dict.fromkeys(t for _word, terms in per_word for t in terms))
    clauses = [
        Or([_loose(name, t, fam) for name in _fields(fam)] + [Term("labels", t)]) for t in pooled
    ]
    begun = _begun(per_word[-1][0], fam, typing)
    if begun is not None:
        last_term = pooled.index(per_word[-1][1][-1])
        clauses[last_term] = Or([clauses[last_term], begun])
    if len(clauses) == 1:
        return clauses[0]
    sentence = len(request.words) >= SENTENCE_WORDS
    return Or(clauses, minmatch=_required(len(clauses), sentence))


def build_query(request: SearchRequest, family, relaxed: bool = False):
    """Strict: every word matches (in title, body or labels), in any requested locale.
    Relaxed (asked for when strict finds nothing): most terms match. Promoted articles get a
    small boost either way."""
    per_locale = []
    for locale in request.locales:
        q = _locale_query(request, locale, family(locale), relaxed)
        if q is not None:
            per_locale.append(q)
    if not per_locale:
        return None
    main = Or(per_locale) if len(per_locale) > 1 else per_locale[0]
    return AndMaybe(main, Term("promoted", True, boost=PROMOTED_BOOST))


def phrase_ok(request: SearchRequest, title: str, text: str) -> bool:
    """Quoted phrases must appear as typed (case and width folded)."""
    if not request.phrases:
        return True
    haystack = normalise(f"{title}\n{text}")
    haystack = " ".join(haystack.split())
    return all(p in haystack for p in request.phrases)
