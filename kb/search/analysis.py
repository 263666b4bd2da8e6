"""Analysers by locale: CJK character bigrams (ko, ja, zh) and stemming (en, sv, others).

Korean and Japanese write words inside longer runs without spaces (결제수단을, 支払い方法), so
whole-word tokens miss them. Indexing overlapping character bigrams of every CJK run, and
turning the query into the same bigrams, finds a word anywhere inside a run. Latin words inside
CJK text (product names) are kept as lower-cased words, so mixed text works both ways.
"""

import re
import unicodedata

from whoosh.analysis import (
    Filter,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
    Token,
    Tokenizer,
)
from whoosh.lang import stopwords_for_language

CJK_LOCALES = ("ko", "ja", "zh")
STEM_LOCALES = ("en", "sv")
STOP_WORDS = {locale: frozenset(stopwords_for_language(locale)) for locale in STEM_LOCALES}

# Hangul syllables and jamo, CJK ideographs, hiragana, katakana (incl. the long vowel mark).
_CJK = (
    "\u1100-\u11ff\u3130-\u318f\uac00-\ud7af"  # Hangul
    "\u3040-\u309f\u30a0-\u30ff\u31f0-\u31ff\uff66-\uff9f"  # kana
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # ideographs
)
# A CJK run, or a word of other letters and digits (which never swallows CJK: QR결제 is "qr" +
# 결제, 2段階認証 is "2" + 段階...).
_WORD = rf"(?:(?![{_CJK}])[^\W_])+"
_RUNS = re.compile(rf"([{_CJK}]+)|({_WORD}(?:['’.]{_WORD})*)", re.UNICODE)
_CJK_CHAR = re.compile(rf"[{_CJK}]")


def normalise(text: str) -> str:
    """NFKC (full-width Latin and digits to ASCII, half-width kana to full) and lower case."""
    return unicodedata.normalize("NFKC", text or "").lower()


def has_cjk(text: str) -> bool:
    return bool(_CJK_CHAR.search(text or ""))


class CJKBigramTokenizer(Tokenizer):
    """CJK runs become overlapping bigrams (a lone character stays a unigram); other words stay.

    Runs are found in the original text, so character offsets (for highlighting) point at the
    original; each run's text is NFKC-normalised and lower-cased.
    """

    def __call__(
        self,
        value,
        positions=False,
        chars=False,
        keeporiginal=False,
        removestops=True,
        start_pos=0,
        start_char=0,
        tokenize=True,
        mode="",
        **kwargs,
    ):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        pos = start_pos
        for match in _RUNS.finditer(value or ""):
            cjk, word = match.group(1), match.group(2)
            if cjk:
                run = normalise(cjk)
                grams = [run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)]
                spans = [(min(i, len(cjk) - 1), min(i + 2, len(cjk))) for i in range(len(grams))]
            else:
                grams = [normalise(word)]
                spans = [(0, len(word))]
            offset = match.start()
            for gram, (start, end) in zip(grams, spans, strict=True):
                token.text = gram
                token.boost = 1.0
                token.stopped = False
                if keeporiginal:
                    token.original = gram
                if positions:
                    token.pos = pos
                if chars:
                    token.startchar = start_char + offset + start
                    token.endchar = start_char + offset + end
                pos += 1
                yield token


class WordPairTokenizer(Tokenizer):
    """Neighbouring words written with only spaces between them, as one token each: "reset
    password", and in CJK text the characters either side of the space ("설정합니다 이" gives
    "다 이"). Quoted phrases need these pairs, which narrows their candidates to the documents
    where the words at least meet before the text itself is checked."""

    def __call__(
        self,
        value,
        positions=False,
        chars=False,
        keeporiginal=False,
        removestops=True,
        start_pos=0,
        start_char=0,
        tokenize=True,
        mode="",
        **kwargs,
    ):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        value = value or ""
        pos, previous = start_pos, None
        for match in _RUNS.finditer(value):
            cjk = match.group(1)
            text = normalise(match.group(0))
            if previous is not None and value[previous[2] : match.start()].isspace():
                left = previous[0][-1] if previous[1] else previous[0]
                token.text = f"{left} {text[0] if cjk else text}"
                token.boost = 1.0
                token.stopped = False
                if keeporiginal:
                    token.original = token.text
                if positions:
                    token.pos = pos
                if chars:
                    token.startchar = start_char + previous[2] - 1
                    token.endchar = start_char + match.start() + 1
                pos += 1
                yield token
            previous = (text, bool(cjk), match.end())


def pair_terms(text: str) -> list[str]:
    """The word pairs of a phrase, as the index holds them."""
    return [t.text for t in WordPairTokenizer()(text)]


class NormaliseFilter(Filter):
    """NFKC: full-width Latin letters and digits match their ASCII forms (ＱＲ is qr)."""

    def __call__(self, tokens):
        for t in tokens:
            t.text = unicodedata.normalize("NFKC", t.text)
            yield t


class SwedishBaseFormFilter(Filter):
    """Swedish words to one base form per noun, whatever its form (licens, licensen, licenser,
    licenserna; faktura, fakturan, fakturor; konto, kontot, konton; kort, kortet, korten).

    Snowball's Swedish stemmer alone takes the wrong ending off some base forms (licens -> lic,
    kurs -> kur, while licenser -> licens) and leaves definite forms it has no rule for (kortet,
    kontot, fakturan). Here the definite -et, and -n or -t after a vowel, come off first, and the
    stemmer is applied again until the word no longer changes: every form of a noun passes
    through its base form, so all of them end where the base form ends, on the index side and
    the query side alike.
    """

    _VOWELS = frozenset("aeiouyåäö")
    _MIN = 3  # letters left after taking an ending off (hus from huset, not "hu")

    def __init__(self):
        from whoosh.lang import stemmer_for_language

        self._stem = stemmer_for_language("sv")
        self._cache: dict[str, str] = {}

    def __eq__(self, other):
        return type(other) is type(self)

    def __getstate__(self):
        return {}

    def __setstate__(self, state):
        self.__init__()

    def base(self, word: str) -> str:
        found = self._cache.get(word)
        if found is None:
            found = word
            for _ in range(6):  # a few rounds reach the fixed point
                step = self._stem(self._definite(found))
                if step == found:
                    break
                found = step
            if len(self._cache) > 50_000:
                self._cache.clear()
            self._cache[word] = found
        return found

    def _definite(self, word: str) -> str:
        if word.endswith("et") and len(word) - 2 >= self._MIN:
            return word[:-2]
        if word[-1:] in ("n", "t") and word[-2:-1] in self._VOWELS and len(word) > self._MIN + 1:
            return word[:-1]
        return word

    def __call__(self, tokens):
        for t in tokens:
            if not t.stopped:
                t.text = self.base(t.text)
            yield t


def cjk_analyzer():
    return CJKBigramTokenizer() | LowercaseFilter()


def analyzer_for(locale: str):
    """The analyser a locale's text is indexed and queried with."""
    if locale in CJK_LOCALES:
        return cjk_analyzer()
    words = RegexTokenizer() | NormaliseFilter() | LowercaseFilter()
    if locale == "sv":
        return words | StopFilter(stoplist=STOP_WORDS[locale]) | SwedishBaseFormFilter()
    if locale in STEM_LOCALES:
        return words | StopFilter(stoplist=STOP_WORDS[locale]) | StemFilter(lang=locale)
    return words


def words_analyzer():
    """Unstemmed, normalised words (for "did you mean")."""
    return RegexTokenizer() | NormaliseFilter() | LowercaseFilter()


def terms(locale: str, text: str) -> list[str]:
    """The index terms a query string becomes in this locale (duplicates kept in order)."""
    return [t.text for t in analyzer_for(locale)(normalise(text)) if t.text]
