"""Search-speed benchmark: the Whoosh index on a generated help center, beside SQLite FTS5.

Generates (seeded, so every run is the same) 20,000 article translations in two brands, mostly
Korean with English product names and terms mixed in, some English; mostly published, some drafts
and some scheduled for later. Words come from the real-word lists in bench/wordlists/ (Korean
nouns, noun compounds, 하다-verbs and native verbs with particles and endings; English words with
their plurals and verb forms), drawn with Zipf-like frequencies (rank^-1.07) so the postings look
like a real help center's: a few Korean words are in nearly every article.

It builds the index with kb.search.index.WhooshIndex.rebuild() and times it, then times 200
varied queries (common, rare and very common Korean words, words with particles, English words,
two words, quoted phrases, typos) through WhooshIndex.search(), after warming up with one query
of each type.
The same corpus and queries then run on SQLite FTS5 with the trigram tokenizer (words ANDed as
quoted strings, the same visibility filters, ORDER BY bm25 LIMIT 10) as a baseline, and it
prints p50/p95/max overall and per query type, the slowest queries, the ratio of the p95s and
PASS/FAIL lines for the targets (p95 under 50 ms; no worse than 3x the baseline).

Run it from the project folder:

    .venv/bin/python bench/search_speed.py
    .venv/bin/python bench/search_speed.py --articles 5000 --queries 100 --seed 7
    .venv/bin/python bench/search_speed.py --profile      # cProfile the slowest query types

The default run takes about 5 minutes here (the Whoosh build is most of it); --profile adds
the slowest types' queries again under cProfile (about 3 minutes more while they are slow).

Everything happens in a temporary folder that is removed at the end. It is a report: the exit
code is 0 whatever the numbers say.
"""

import argparse
import cProfile
import io
import pstats
import random
import re
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import accumulate
from pathlib import Path

from kb.search.analysis import normalise
from kb.search.documents import FOREVER, Document
from kb.search.index import WhooshIndex
from kb.search.query import SearchRequest

WORDLISTS = Path(__file__).resolve().parent / "wordlists"
NOW = datetime(2025, 6, 2, 9, 30, tzinfo=UTC)
ZIPF_EXPONENT = 1.07
TARGET_P95_MS = 50.0
TARGET_RATIO = 3.0
PER_PAGE = 10
_PHRASE = re.compile(r'"([^"]+)"')  # as in kb.search.query: what a visitor quotes
PROFILE_MODULES = r"kb/search/|whoosh/(searching|collectors|query/|highlight|reading)"

# Korean particles: (after a final consonant, after a vowel, weight); 으로 is 로 after ㄹ too.
PARTICLES = (
    ("을", "를", 25),
    ("이", "가", 14),
    ("은", "는", 12),
    ("에", "에", 10),
    ("에서", "에서", 8),
    ("으로", "로", 8),
    ("의", "의", 8),
    ("과", "와", 5),
    ("도", "도", 4),
    ("만", "만", 2),
    ("까지", "까지", 2),
    ("부터", "부터", 2),
)
# Endings of 하다-verbs and the matching column of ko_verbs.txt, with weights.
ENDINGS = (
    ("하려면", 1, 10),
    ("합니다", 2, 30),
    ("했습니다", 3, 10),
    ("할 수 있습니다", 4, 14),
    ("하세요", 5, 10),
    ("하고", 6, 8),
    ("하면", 7, 8),
    ("하는", 8, 6),
    ("할 수 없습니다", 4, 4),  # the native verb's "수 있습니다" turned to "수 없습니다"
)
TITLE_ENDINGS = (
    "하는 방법",
    "하려면 어떻게 하나요?",
    "할 수 없는 경우",
    "하기",
    "관련 안내",
    "오류 해결",
    "하는 방법 안내",
    "이 되지 않아요",
)
EN_TITLE_STARTS = (
    "How to",
    "Why can't I",
    "What to do if",
    "Troubleshooting",
    "About",
    "Getting started with",
    "Can I",
    "Fix",
)
KINDS = (("guide", 60), ("faq", 25), ("notice", 10), ("event", 5))
LABELS = ("billing", "account", "mobile", "security", "shipping", "beta", "b2b", "howto")

# Query types and their share of the default 200 queries.
QUERY_MIX = (
    ("ko_very_common", 12),
    ("ko_common", 24),
    ("ko_rare", 16),
    ("ko_verb", 10),
    ("ko_en_term", 10),
    ("en_common", 18),
    ("en_rare", 12),
    ("two_words", 34),
    ("phrase", 36),
    ("typo_en", 14),
    ("typo_ko", 14),
)


# -- vocabulary ------------------------------------------------------------------------------


def _read_words(name: str) -> dict[str, list[str]]:
    """Whitespace-separated words of a word list, by [section] ("" before the first)."""
    sections: dict[str, list[str]] = defaultdict(list)
    current = ""
    for line in (WORDLISTS / name).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
            continue
        sections[current].extend(line.split())
    return sections


def _unique(words):
    seen = set()
    return [w for w in words if not (w in seen or seen.add(w))]


def _by_relative_rank(*lists_and_offsets):
    """Merge ranked lists so each keeps its own order and they interleave by relative rank."""
    keyed = []
    for words, offset, spread in lists_and_offsets:
        n = max(1, len(words))
        keyed.extend((offset + spread * i / n, i, w) for i, w in enumerate(words))
    return _unique(w for _, _, w in sorted(keyed))


def _has_batchim(word: str) -> bool:
    last = word[-1]
    return "가" <= last <= "힣" and (ord(last) - 0xAC00) % 28 != 0


def _batchim_is_rieul(word: str) -> bool:
    last = word[-1]
    return "가" <= last <= "힣" and (ord(last) - 0xAC00) % 28 == 8


def with_particle(noun: str, particle: tuple) -> str:
    after_consonant, after_vowel, _ = particle
    if not ("가" <= noun[-1] <= "힣"):  # a Latin term: particles that do not alternate
        return noun + (after_consonant if after_consonant == after_vowel else "의")
    if after_consonant == "으로" and _batchim_is_rieul(noun):
        return noun + "로"
    return noun + (after_consonant if _has_batchim(noun) else after_vowel)


class Zipf:
    """Draws from a ranked list with weight (rank + 1) ** -exponent."""

    def __init__(self, ranked: list, exponent: float = ZIPF_EXPONENT):
        self.ranked = ranked
        self.cum = list(accumulate((r + 1) ** -exponent for r in range(len(ranked))))

    def draw(self, rng: random.Random, k: int = 1) -> list:
        return rng.choices(self.ranked, cum_weights=self.cum, k=k)

    def one(self, rng: random.Random):
        return rng.choices(self.ranked, cum_weights=self.cum)[0]


@dataclass
class Vocabulary:
    ko_nouns: list[str]  # nouns and compounds, ranked
    ko_actions: list[str]  # 하다-verb nouns, ranked
    ko_verbs: list[list[str]]  # native verbs: the forms of ko_verbs.txt
    ko_starts: list[str]  # adverbs and connectives opening a sentence, ranked
    ko_determiners: list[str]  # words before a noun, ranked
    en_words: list[str]  # all English forms, ranked (function words first)
    en_content: list[str]  # English forms that are not function words, ranked
    en_terms: list[str]  # product names and technical terms

    @classmethod
    def load(cls, rng: random.Random) -> "Vocabulary":
        nouns = _unique(_read_words("ko_nouns.txt")[""])
        compound = _read_words("ko_compound.txt")
        compounds = [m + h for m in compound["modifiers"] for h in compound["heads"] if m != h]
        rng.shuffle(compounds)  # which compounds are common: seeded, not alphabetical
        ko_nouns = _by_relative_rank((nouns, 0.0, 1.0), (compounds, 0.1, 1.0))
        ko_actions = _unique(_read_words("ko_actions.txt")[""])
        ko_verbs = []
        for line in (WORDLISTS / "ko_verbs.txt").read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                ko_verbs.append([part.strip() for part in line.split("|")])
        ko_function = _read_words("ko_function.txt")

        en = _read_words("en_words.txt")
        function = _unique(en["function"])
        noun_forms = _unique(f for n in _unique(en["nouns"]) for f in (n, _plural(n)))
        verb_forms = [f for v in _unique(en["verbs"]) for f in _verb_forms(v)]
        other = _unique(en["other"])
        content = _by_relative_rank(
            (noun_forms, 0.0, 1.0), (verb_forms, 0.0, 1.0), (other, 0.0, 1.0)
        )
        function_words = set(function)
        content = [w for w in content if w not in function_words]
        # Function words take the top ranks, as in any English text.
        en_words = function[:40] + _by_relative_rank((function[40:], 0.0, 0.5), (content, 0.0, 1.0))
        terms = [
            t.strip()
            for t in (WORDLISTS / "en_terms.txt").read_text().splitlines()
            if t.strip() and not t.startswith("#")
        ]
        return cls(
            ko_nouns,
            ko_actions,
            ko_verbs,
            _multiword(ko_function["starts"]),
            _multiword(ko_function["determiners"]),
            en_words,
            content,
            terms,
        )


def _multiword(words: list[str]) -> list[str]:
    """Rejoin the list's few two-word entries (아래와 같이, 사용 중인, 더 이상)."""
    joined, i = [], 0
    pairs = {
        ("아래와", "같이"),
        ("필요한", "경우"),
        ("자세한", "내용은"),
        ("예를", "들어"),
        ("그런", "다음"),
        ("경우에", "따라"),
        ("잠시", "후"),
        ("더", "이상"),
        ("사용", "중인"),
        ("이용", "중인"),
        ("진행", "중인"),
    }
    while i < len(words):
        if tuple(words[i : i + 2]) in pairs:
            joined.append(" ".join(words[i : i + 2]))
            i += 2
        else:
            joined.append(words[i])
            i += 1
    return _unique(joined)


IRREGULAR_PLURALS = {
    "child": "children",
    "person": "people",
    "woman": "women",
    "man": "men",
    "knife": "knives",
    "life": "lives",
    "wife": "wives",
    "shelf": "shelves",
    "half": "halves",
    "mouse": "mice",
    "foot": "feet",
    "tooth": "teeth",
}
UNCOUNTABLE = set(
    "information data feedback advice equipment furniture luggage research evidence music money "
    "rice sugar salt water milk bread cash software traffic weather health happiness wealth "
    "freedom fun mud sand snow rain butter beef cheese pollution violence literature poetry "
    "chemistry psychology philosophy math privacy security compliance malware spam inventory "
    "staff wifi internet insurance nutrition fitness coverage storage shipping billing delivery "
    "checkout support access sync usage uptime downtime performance abuse fraud theft damage "
    "loyalty supply produce electricity gas management leadership education technology".split()
)


def _plural(noun: str) -> str:
    if noun in IRREGULAR_PLURALS:
        return IRREGULAR_PLURALS[noun]
    if noun in UNCOUNTABLE or (noun.endswith("s") and not noun.endswith(("ss", "us", "is"))):
        return noun  # settings, news, analytics
    if noun.endswith("is"):
        return noun[:-2] + "es"  # analysis -> analyses
    if noun.endswith(("s", "x", "z", "ch", "sh")):
        return noun + "es"
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"


STRESSED_LAST = {
    "submit",
    "commit",
    "admit",
    "permit",
    "omit",
    "prefer",
    "refer",
    "occur",
    "control",
    "regret",
    "forget",
}


def _verb_forms(entry: str) -> list[str]:
    """base, -s, past, -ing (irregular verbs are written base/past/ing in the list)."""
    if "/" in entry:
        base, past, ing = entry.split("/")
        return _unique([base, _third_person(base), past, ing])
    base = entry
    if base.endswith("e"):
        past, ing = base + "d", base[:-1] + "ing"
    elif base.endswith("y") and base[-2:-1] not in "aeiou":
        past, ing = base[:-1] + "ied", base + "ing"
    elif base in STRESSED_LAST or (
        sum(ch in "aeiou" for ch in base) == 1
        and base[-1] in "bdgmnpt"
        and base[-2] in "aeiou"
        and base[-3:-2] not in "aeiou"
    ):
        past, ing = base + base[-1] + "ed", base + base[-1] + "ing"  # stop -> stopped
    else:
        past, ing = base + "ed", base + "ing"
    return _unique([base, _third_person(base), past, ing])


def _third_person(verb: str) -> str:
    if verb.endswith(("s", "x", "z", "ch", "sh", "o")):
        return verb + "es"
    if verb.endswith("y") and verb[-2:-1] not in "aeiou":
        return verb[:-1] + "ies"
    return verb + "s"


# -- corpus ----------------------------------------------------------------------------------


class Writer:
    """Writes titles and bodies from the vocabulary, with per-article topic words."""

    def __init__(self, vocab: Vocabulary, rng: random.Random):
        self.v = vocab
        self.rng = rng
        self.ko_nouns = Zipf(vocab.ko_nouns)
        self.ko_actions = Zipf(vocab.ko_actions)
        self.ko_verbs = Zipf(vocab.ko_verbs)
        self.ko_starts = Zipf(vocab.ko_starts)
        self.ko_determiners = Zipf(vocab.ko_determiners)
        self.en_words = Zipf(vocab.en_words)
        self.en_content = Zipf(vocab.en_content)
        self.en_terms = Zipf(vocab.en_terms, exponent=0.8)
        self.particles = [p for p in PARTICLES]
        self.particle_cum = list(accumulate(p[2] for p in PARTICLES))
        self.ending_cum = list(accumulate(e[2] for e in ENDINGS))

    def particle(self):
        return self.rng.choices(self.particles, cum_weights=self.particle_cum)[0]

    def ko_predicate(self) -> str:
        ending = self.rng.choices(ENDINGS, cum_weights=self.ending_cum)[0]
        if self.rng.random() < 0.8:
            return self.ko_actions.one(self.rng) + ending[0]
        form = self.ko_verbs.one(self.rng)[ending[1]]
        return form.replace("있습니다", "없습니다") if ending[0] == "할 수 없습니다" else form

    def ko_phrase(self, topic: list[str], terms: list[str]) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.22:
            noun = rng.choice(topic)
        elif roll < 0.32:
            noun = rng.choice(terms)
        else:
            noun = self.ko_nouns.one(rng)
        if rng.random() < 0.82:
            noun = with_particle(noun, self.particle())
        if rng.random() < 0.15:
            noun = f"{self.ko_determiners.one(rng)} {noun}"
        return noun

    def ko_sentence(self, topic, terms) -> list[str]:
        count = self.rng.choices((1, 2, 3, 4, 5), cum_weights=(15, 45, 75, 93, 100))[0]
        words = [self.ko_phrase(topic, terms) for _ in range(count)]
        if self.rng.random() < 0.45:
            words.insert(0, self.ko_starts.one(self.rng))
        words.append(self.ko_predicate())
        return " ".join(words).split(" ")

    def en_sentence(self, topic, terms) -> list[str]:
        rng = self.rng
        count = rng.randint(6, 18)
        words = self.en_words.draw(rng, count)
        for i in range(count):
            roll = rng.random()
            if roll < 0.12:
                words[i] = rng.choice(topic)
            elif roll < 0.16:
                words[i] = rng.choice(terms)
        return " ".join(words).split(" ")

    def article(self, locale: str) -> tuple[str, str]:
        rng = self.rng
        terms = [self.en_terms.one(rng) for _ in range(rng.randint(1, 3))]
        if locale == "ko":
            topic = [self.ko_nouns.one(rng) for _ in range(2)] + [
                rng.choice(self.v.ko_nouns[:2000])
            ]
            sentence, title = self.ko_sentence, self.ko_title(topic, terms)
        else:
            topic = [self.en_content.one(rng) for _ in range(2)] + [
                rng.choice(self.v.en_content[:1500])
            ]
            sentence, title = self.en_sentence, self.en_title(topic, terms)
        target = rng.randint(150, 400)
        paragraphs, paragraph, count = [], [], 0
        while count < target:
            words = sentence(topic, terms)
            if locale == "en":
                words[0] = words[0][:1].upper() + words[0][1:]
            paragraph.append(" ".join(words) + ".")
            count += len(words)
            if len(paragraph) >= rng.randint(3, 6):
                paragraphs.append(" ".join(paragraph))
                paragraph = []
        if paragraph:
            paragraphs.append(" ".join(paragraph))
        return title, "\n\n".join(paragraphs)

    def ko_title(self, topic, terms) -> str:
        rng = self.rng
        words = []
        if rng.random() < 0.4:
            words.append(rng.choice(terms))
        words.append(with_particle(topic[0], self.particle()))
        while len(" ".join(words).split()) < rng.randint(3, 9):
            words.append(self.ko_phrase(topic, terms))
        words.append(self.ko_actions.one(rng) + rng.choice(TITLE_ENDINGS))
        return " ".join(" ".join(words).split()[:12])

    def en_title(self, topic, terms) -> str:
        rng = self.rng
        words = rng.choice(EN_TITLE_STARTS).split() + [rng.choice(terms), topic[0]]
        while len(words) < rng.randint(5, 12):
            words.append(self.en_content.one(rng) if rng.random() < 0.7 else self.en_words.one(rng))
        return " ".join(words[:12])


def generate_documents(count: int, vocab: Vocabulary, seed: int) -> list[Document]:
    rng = random.Random(seed)
    writer = Writer(vocab, rng)
    now = int(NOW.timestamp())
    day = 86400
    docs = []
    ko_articles = []
    for i in range(count):
        locale = "ko" if rng.random() < 0.8 else "en"
        brand = 1 if rng.random() < 0.6 else 2
        article_id = i + 1
        if locale == "en" and ko_articles and rng.random() < 0.5:
            # An English translation of a Korean article (same brand, section, kind).
            source = ko_articles.pop(rng.randrange(len(ko_articles)))
            article_id, brand = source.article_id, source.brand_id
            section_id, kind, labels = source.section_id, source.kind, source.labels
        else:
            section_id = brand * 100 + rng.randint(1, 30)
            kind = rng.choices([k for k, _ in KINDS], weights=[w for _, w in KINDS])[0]
            labels = tuple(sorted(rng.sample(LABELS, rng.choice((0, 0, 1, 1, 2, 3)))))
        roll = rng.random()
        if roll < 0.87:
            status, publish_at = "published", now - rng.randint(1, 1500) * day
        elif roll < 0.95:
            status, publish_at = "draft", 0
        else:
            status, publish_at = "published", now + rng.randint(1, 60) * day  # scheduled
        unpublish_at = FOREVER
        if status == "published" and rng.random() < 0.02:
            unpublish_at = now - rng.randint(1, 100) * day  # an expired notice
        title, text = writer.article(locale)
        doc = Document(
            translation_id=i + 1,
            article_id=article_id,
            brand_id=brand,
            locale=locale,
            kind=kind,
            section_id=section_id,
            labels=labels,
            title=title,
            text=text,
            status=status,
            publish_at=publish_at,
            unpublish_at=unpublish_at,
            promoted=rng.random() < 0.03,
            stamp=f"bench-{seed}-{i}",
        )
        docs.append(doc)
        if locale == "ko":
            ko_articles.append(doc)
    return docs


def is_visible(doc: Document, now: int) -> bool:
    return doc.status == "published" and doc.publish_at <= now < doc.unpublish_at


# -- queries ---------------------------------------------------------------------------------


@dataclass
class Query:
    kind: str
    request: SearchRequest


def _allocate(total: int) -> list[str]:
    """Query types in QUERY_MIX proportions (largest remainder)."""
    weight = sum(w for _, w in QUERY_MIX)
    exact = [(kind, total * w / weight) for kind, w in QUERY_MIX]
    counts = {kind: int(x) for kind, x in exact}
    left = total - sum(counts.values())
    for kind, _ in sorted(exact, key=lambda kx: kx[1] - int(kx[1]), reverse=True)[:left]:
        counts[kind] += 1
    return [kind for kind, _ in QUERY_MIX for _ in range(counts[kind])]


def _typo_en(word: str, rng: random.Random) -> str:
    while True:
        i = rng.randrange(1, len(word) - 1)
        if rng.random() < 0.5:
            typo = word[:i] + word[i + 1] + word[i] + word[i + 2 :]  # swapped letters
        else:
            typo = word[:i] + word[i + 1 :]  # a missing letter
        if typo != word:
            return typo


def _typo_ko(word: str, syllables: list[str], rng: random.Random) -> str:
    i = rng.randrange(len(word))
    while True:
        syllable = rng.choice(syllables)
        if syllable != word[i]:
            return word[:i] + syllable + word[i + 1 :]


def generate_queries(count: int, docs: list[Document], vocab: Vocabulary, seed: int):
    rng = random.Random(seed * 7919 + 1)
    writer = Writer(vocab, rng)
    now = int(NOW.timestamp())
    visible = defaultdict(list)  # (brand, locale) -> visible documents
    for doc in docs:
        if is_visible(doc, now):
            visible[(doc.brand_id, doc.locale)].append(doc)
    syllables = sorted({ch for noun in vocab.ko_nouns for ch in noun})
    ko, en = vocab.ko_nouns, vocab.en_content
    content = set(en)
    kinds = _allocate(count)
    rng.shuffle(kinds)
    queries = []
    for kind in kinds:
        brand = rng.choice((1, 1, 1, 2, 2))
        korean = kind.startswith(("ko_", "typo_ko")) or (
            kind in ("two_words", "phrase") and rng.random() < 0.7
        )
        if korean:
            locales = ("ko",) if rng.random() < 0.75 else ("ko", "en")
        else:
            locales = ("en",) if rng.random() < 0.7 else ("ko", "en")
        particle = writer.particle()
        if kind == "ko_very_common":
            noun = rng.choice(ko[:6])
            text = noun if rng.random() < 0.6 else with_particle(noun, particle)
        elif kind == "ko_common":
            noun = rng.choice(ko[6:150])
            text = noun if rng.random() < 0.5 else with_particle(noun, particle)
        elif kind == "ko_rare":
            noun = rng.choice(ko[1500:])
            text = noun if rng.random() < 0.6 else with_particle(noun, particle)
        elif kind == "ko_verb":
            text = writer.ko_predicate()
        elif kind == "ko_en_term":
            term = rng.choice(vocab.en_terms)
            noun = rng.choice(ko[:800])
            text = f"{term} {noun}" if rng.random() < 0.5 else f"{noun} {term}"
        elif kind == "en_common":
            text = rng.choice(en[:200])
        elif kind == "en_rare":
            text = rng.choice(en[1500:])
        elif kind == "two_words":
            if korean:
                first = rng.choice(ko[:1000])
                second = rng.choice((rng.choice(ko[:1000]), writer.ko_predicate().split()[0]))
                text = f"{first} {second}"
            else:
                text = f"{rng.choice(en[:1200])} {rng.choice(en[:1200])}"
        elif kind == "phrase":
            # Words that follow each other in a visible article (with a content word in English:
            # nobody quotes "or if").
            doc = rng.choice(visible[(brand, "ko" if korean else "en")])
            length = rng.choice((2, 2, 3))
            sentences = [s.split() for s in doc.text.split(".") if len(s.split()) > length]
            for _ in range(100):
                words = rng.choice(sentences)  # (a phrase never spans a full stop)
                start = rng.randrange(len(words) - length)
                phrase = " ".join(words[start : start + length])
                if korean or any(w.lower() in content for w in words[start : start + length]):
                    break
            text = f'"{phrase}"'
            if rng.random() < 0.25:
                text = f"{text} {rng.choice(ko[:300] if korean else en[:300])}"
        elif kind == "typo_en":
            text = _typo_en(rng.choice([w for w in en[:1500] if len(w) >= 5]), rng)
        elif kind == "typo_ko":
            word = rng.choice([w for w in ko[:1500] if len(w) >= 2])
            text = _typo_ko(word, syllables, rng)
        else:
            raise ValueError(kind)
        request = SearchRequest(
            brand_id=brand, locales=locales, text=text, now=NOW, per_page=PER_PAGE
        )
        queries.append(Query(kind, request))
    return queries


# -- engines ---------------------------------------------------------------------------------


class Fts5Baseline:
    """The same documents in SQLite FTS5 (trigram), queried like the Whoosh index."""

    def __init__(self, path: Path):
        self.db = sqlite3.connect(str(path))

    def build(self, docs: list[Document]) -> None:
        self.db.execute(
            "CREATE VIRTUAL TABLE docs USING fts5(title, body, brand UNINDEXED, locale UNINDEXED,"
            " status UNINDEXED, publish_at UNINDEXED, unpublish_at UNINDEXED,"
            " tokenize='trigram')"
        )
        with self.db:
            self.db.executemany(
                "INSERT INTO docs(rowid, title, body, brand, locale, status, publish_at,"
                " unpublish_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    (
                        d.translation_id,
                        d.title,
                        d.text,
                        d.brand_id,
                        d.locale,
                        d.status,
                        d.publish_at,
                        d.unpublish_at,
                    )
                    for d in docs
                ),
            )
            self.db.execute("INSERT INTO docs(docs) VALUES ('optimize')")

    @staticmethod
    def plan(request: SearchRequest) -> tuple[list[str], list[str]]:
        """(FTS5 strings to AND, strings to LIKE): trigrams cannot match under 3 characters."""
        phrases = [p for p in request.phrases]
        plain = normalise(_PHRASE.sub(" ", request.text).replace('"', " ")).split()
        strings = phrases + plain
        return [s for s in strings if len(s) >= 3], [s for s in strings if len(s) < 3]

    def sql(self, request: SearchRequest) -> tuple[str, list]:
        match, like = self.plan(request)
        where = [
            "brand = ?",
            f"locale IN ({', '.join('?' * len(request.locales))})",
            "status = 'published'",
            "publish_at <= ?",
            "unpublish_at > ?",
        ]
        params: list = [request.brand_id, *request.locales, request.now_epoch, request.now_epoch]
        for s in like:
            escaped = s.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            where.append("(title LIKE ? ESCAPE '\\' OR body LIKE ? ESCAPE '\\')")
            params += [f"%{escaped}%", f"%{escaped}%"]
        if match:
            expression = " AND ".join('"' + s.replace('"', '""') + '"' for s in match)
            sql = (
                f"SELECT rowid FROM docs WHERE docs MATCH ? AND {' AND '.join(where)}"
                " ORDER BY bm25(docs, 3.0, 1.0) LIMIT ?"
            )
            return sql, [expression, *params, request.per_page]
        sql = f"SELECT rowid FROM docs WHERE {' AND '.join(where)} ORDER BY rowid LIMIT ?"
        return sql, [*params, request.per_page]

    def search(self, request: SearchRequest) -> list[int]:
        sql, params = self.sql(request)
        return [row[0] for row in self.db.execute(sql, params)]

    def close(self) -> None:
        self.db.close()


@dataclass
class Timing:
    query: Query
    ms: float
    found: int  # Whoosh: total; FTS5: rows returned (at most a page)


def time_queries(search, queries: list[Query]) -> tuple[list[Timing], float]:
    """Warm up once (the first query of each type, untimed but for the very first, which
    opens the searcher), then time every query once."""
    start = time.perf_counter()
    search(queries[0].request)
    first_ms = (time.perf_counter() - start) * 1000
    warm = {q.kind: q for q in reversed(queries[1:])}
    for q in warm.values():
        search(q.request)
    timings = []
    for q in queries:
        start = time.perf_counter()
        result = search(q.request)
        ms = (time.perf_counter() - start) * 1000
        found = result.total if hasattr(result, "total") else len(result)
        timings.append(Timing(q, ms, found))
    return timings, first_ms


# -- report ----------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


def stats(values: list[float]) -> tuple[float, float, float]:
    return percentile(values, 50), percentile(values, 95), max(values)


def show(text: str, width: int = 44) -> str:
    text = f"{text}"
    return text if len(text) <= width else text[: width - 1] + "…"


def describe_corpus(docs: list[Document], vocab: Vocabulary) -> list[str]:
    now = int(NOW.timestamp())
    by_locale = Counter(d.locale for d in docs)
    by_brand = Counter(d.brand_id for d in docs)
    status = Counter(
        "draft"
        if d.status == "draft"
        else "scheduled"
        if d.publish_at > now
        else "expired"
        if d.unpublish_at <= now
        else "published"
        for d in docs
    )
    words = [len(d.text.split()) for d in docs]
    ko_tokens = Counter()
    ko_docs = [d for d in docs if d.locale == "ko"]
    doc_freq = Counter()
    for d in ko_docs[:2000]:
        tokens = d.text.replace(".", " ").split()
        ko_tokens.update(tokens)
        doc_freq.update({n for n in vocab.ko_nouns[:6] if n in d.text})
    sample = min(2000, len(ko_docs)) or 1
    common = ", ".join(f"{n} {doc_freq[n] * 100 // sample}%" for n in vocab.ko_nouns[:6])
    return [
        f"articles: {len(docs):,}  locales {dict(by_locale)}  brands {dict(by_brand)}",
        f"status: {dict(status)}",
        f"body words: min {min(words)}, median {int(statistics.median(words))}, max "
        f"{max(words)}; titles {min(len(d.title.split()) for d in docs)}-"
        f"{max(len(d.title.split()) for d in docs)} words",
        f"vocabulary: {len(vocab.ko_nouns):,} Korean nouns and compounds, "
        f"{len(vocab.ko_actions)} 하다-verbs, {len(vocab.ko_verbs)} native verbs, "
        f"{len(vocab.en_words):,} English word forms, {len(vocab.en_terms)} product terms",
        f"Korean articles containing the most common nouns: {common}",
        f"distinct Korean words (with particles/endings) in 2,000 articles: {len(ko_tokens):,}",
    ]


def report(out, name, timings, first_ms):
    ms = [t.ms for t in timings]
    p50, p95, worst = stats(ms)
    out(
        f"  {name}: p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {worst:.1f} ms, mean "
        f"{statistics.fmean(ms):.1f} ms (first query, cold: {first_ms:.1f} ms)"
    )
    return p95


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=20000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=20250602)
    parser.add_argument(
        "--profile",
        action="store_true",
        help="cProfile the Whoosh queries of the two slowest query types",
    )
    args = parser.parse_args(argv)
    out = print

    out(f"Search speed: {args.articles:,} articles, {args.queries} queries, seed {args.seed}")
    out(f"Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}")
    if sqlite3.sqlite_version_info < (3, 34, 0):
        out("SQLite is older than 3.34: FTS5 has no trigram tokenizer; cannot run the baseline.")
        return 0

    start = time.perf_counter()
    vocab = Vocabulary.load(random.Random(args.seed))
    docs = generate_documents(args.articles, vocab, args.seed)
    queries = generate_queries(args.queries, docs, vocab, args.seed)
    out(f"\nCorpus (generated in {time.perf_counter() - start:.1f} s)")
    for line in describe_corpus(docs, vocab):
        out(f"  {line}")

    tmp = Path(tempfile.mkdtemp(prefix="search-speed-"))
    try:
        out("\nIndex build")
        index = WhooshIndex(tmp / "idx")
        start = time.perf_counter()
        index.rebuild(docs)
        whoosh_build = time.perf_counter() - start
        whoosh_size = sum(f.stat().st_size for f in (tmp / "idx").iterdir())
        out(f"  Whoosh (WhooshIndex.rebuild): {whoosh_build:.1f} s, {whoosh_size / 2**20:.0f} MB")
        fts = Fts5Baseline(tmp / "fts.db")
        start = time.perf_counter()
        fts.build(docs)
        fts_build = time.perf_counter() - start
        out(
            f"  SQLite FTS5 trigram (insert + optimize): {fts_build:.1f} s, "
            f"{(tmp / 'fts.db').stat().st_size / 2**20:.0f} MB  "
            f"(Whoosh/FTS5: {whoosh_build / fts_build:.1f}x)"
        )

        out("\nQueries (warmed up with one query of each type, then each query timed once)")
        whoosh, whoosh_first = time_queries(index.search, queries)
        baseline, fts_first = time_queries(fts.search, queries)
        whoosh_p95 = report(out, "Whoosh", whoosh, whoosh_first)
        fts_p95 = report(out, "FTS5  ", baseline, fts_first)
        ratio = whoosh_p95 / fts_p95 if fts_p95 else float("inf")
        out(f"  ratio Whoosh p95 / FTS5 p95: {ratio:.2f}x")

        out(
            "\nBy query type (ms)            Whoosh p50   p95   max | FTS5 p50   p95   max"
            " | Whoosh hits (median)"
        )
        by_kind = defaultdict(list)
        for w, f in zip(whoosh, baseline, strict=True):
            by_kind[w.query.kind].append((w, f))
        for kind, _ in QUERY_MIX:
            pairs = by_kind.get(kind)
            if not pairs:
                continue
            w50, w95, wmax = stats([w.ms for w, _ in pairs])
            f50, f95, fmax = stats([f.ms for _, f in pairs])
            hits = int(statistics.median(w.found for w, _ in pairs))
            out(
                f"  {kind:<16} n={len(pairs):<3}   {w50:8.1f} {w95:5.1f} {wmax:5.1f} |"
                f" {f50:8.1f} {f95:5.1f} {fmax:5.1f} | {hits}"
            )

        out("\nSlowest Whoosh queries")
        for t in sorted(whoosh, key=lambda t: t.ms, reverse=True)[:5]:
            out(
                f"  {t.ms:7.1f} ms  {t.query.kind:<15} {show(t.query.request.text):<44} "
                f"locales={'+'.join(t.query.request.locales)} hits={t.found}"
            )
        out("Slowest FTS5 queries")
        for t in sorted(baseline, key=lambda t: t.ms, reverse=True)[:5]:
            _, like = Fts5Baseline.plan(t.query.request)
            note = f" LIKE {like}" if like else ""
            out(
                f"  {t.ms:7.1f} ms  {t.query.kind:<15} {show(t.query.request.text):<44} "
                f"locales={'+'.join(t.query.request.locales)}{note}"
            )

        like_queries = [q for q in queries if Fts5Baseline.plan(q.request)[1]]
        only_like = [q for q in like_queries if not Fts5Baseline.plan(q.request)[0]]
        out(
            f"\nFTS5 trigram cannot match strings under 3 characters (most Korean nouns): "
            f"{len(like_queries)} of {len(queries)} queries used LIKE on such words, "
            f"{len(only_like)} of them with no MATCH at all (a scan of the table, ordered by "
            f"rowid, not bm25)."
        )
        both = sum(1 for w, f in zip(whoosh, baseline, strict=True) if w.found and f.found)
        only_w = sum(1 for w, f in zip(whoosh, baseline, strict=True) if w.found and not f.found)
        only_f = sum(1 for w, f in zip(whoosh, baseline, strict=True) if f.found and not w.found)
        out(
            f"Found something: both {both}, only Whoosh {only_w}, only FTS5 {only_f}, neither "
            f"{len(queries) - both - only_w - only_f} (Whoosh bigrams match looser than "
            f"trigram substrings; typos mostly find nothing in both)."
        )
        missed = [w for w in whoosh if w.query.kind == "phrase" and not w.found]
        out(
            f"Phrase queries (each quoted from a visible article, so each has a hit) that Whoosh "
            f"answered with nothing: {len(missed)} of {len(by_kind.get('phrase', []))}"
            + (f", e.g. {missed[0].query.request.text}" if missed else "")
        )
        out(
            "Whoosh answers more per query than this baseline: the total, section/kind facets "
            "and snippets."
        )

        zero = [t.query for t in whoosh if t.found == 0]
        if zero:
            # The app's search page calls suggest() after a zero-hit search (then searches the
            # suggestion): time it on up to 10 of them, a cost on top of the query's own.
            suggest_ms = []
            for q in zero[:10]:
                start = time.perf_counter()
                index.suggest(q.request)
                suggest_ms.append((time.perf_counter() - start) * 1000)
            s50, _, smax = stats(suggest_ms)
            out(
                f"Zero-hit Whoosh queries: {len(zero)}; the app then also calls suggest(): "
                f"p50 {s50:.1f} ms, max {smax:.1f} ms over {len(suggest_ms)} of them"
            )

        out("\nTargets")
        out(
            f"  {'PASS' if whoosh_p95 < TARGET_P95_MS else 'FAIL'}: Whoosh p95 "
            f"{whoosh_p95:.1f} ms < {TARGET_P95_MS:.0f} ms at {args.articles:,} articles"
        )
        out(
            f"  {'PASS' if ratio <= TARGET_RATIO else 'FAIL'}: Whoosh p95 / FTS5 p95 = "
            f"{ratio:.2f} <= {TARGET_RATIO:.0f}"
        )

        if args.profile:
            slowest = sorted(
                by_kind,
                key=lambda k: percentile([w.ms for w, _ in by_kind[k]], 95),
                reverse=True,
            )[:2]
            for kind in slowest:
                profiler = cProfile.Profile()
                profiler.enable()
                for w, _ in by_kind[kind]:
                    index.search(w.query.request)
                profiler.disable()
                buffer = io.StringIO()
                profile = pstats.Stats(profiler, stream=buffer)
                # Where the time goes in our code and Whoosh's query layer, then the hot loops.
                profile.sort_stats("cumulative").print_stats(PROFILE_MODULES, 25)
                profile.sort_stats("tottime").print_stats(10)
                out(f"\nProfile of {len(by_kind[kind])} '{kind}' queries")
                out(re.sub(r"\n\s*\n", "\n", buffer.getvalue()).rstrip())
        fts.close()
        index.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
