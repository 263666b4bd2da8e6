"""Search-quality benchmark: MRR and recall@5 of the help-center search over the demo content.

Loads the demo brands into a temporary SQLite database, builds the Whoosh index from it, and runs
every query in bench/search_judgements.toml (ko, en, ja, sv, written the way visitors type) as
the help-center search does: one brand, one locale, the visitor's text. Each query's judged
articles (demo article keys, most relevant first) give the reciprocal rank of the first relevant
hit and recall@5 (relevant articles in the top 5 / relevant articles). Per language it prints
MRR and mean recall@5 against the target MRR >= 0.8, beside the same numbers for the database
fallback search (LIKE, no ranking) answering the same requests, so the report shows what the
index adds.

Run it with `.venv/bin/python bench/search_quality.py`; add `--verbose` for the per-query table
(rank of the first relevant article, RR, recall@5, the top three titles). It is a report: the
exit code is 0 whatever the numbers say.
"""

import argparse
import sys
import tomllib
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from common import BENCH, temporary_instance
from sqlalchemy import select

from kb import clock
from kb.models import Article, Brand, Translation
from kb.search import SearchRequest, database_search
from kb.visibility import visible
from portal import demo, search
from portal.extensions import db

JUDGEMENTS = BENCH / "search_judgements.toml"
LANGUAGES = ("ko", "en", "ja", "sv")
MRR_TARGET = 0.8
RECALL_AT = 5
PER_PAGE = 10


@dataclass(frozen=True)
class Judgement:
    brand: str
    locale: str
    query: str
    relevant: tuple[str, ...]  # demo article keys, most relevant first


@dataclass(frozen=True)
class Outcome:
    rank: int | None  # 1-based rank of the first relevant article, None if not in the results
    rr: float
    recall: float
    total: int
    top: tuple[int, ...]  # translation ids of the first hits, in order


# ------------------------------------------------------------------ judgements and demo keys


def demo_articles() -> dict[str, dict[str, dict]]:
    """brand slug -> article key -> the article's TOML table, from the demo files."""
    out = {}
    for path in demo.brand_files():
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        out[data["brand"]["slug"]] = {a["key"]: a for a in data["articles"]}
    return out


def load_judgements(path: Path, articles: dict[str, dict[str, dict]]) -> list[Judgement]:
    """The judgement set, checked against the demo content (unknown keys are an error)."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    judgements = []
    for n, row in enumerate(data["query"], start=1):
        j = Judgement(row["brand"], row["locale"], row["query"], tuple(row["relevant"]))
        where = f"{path.name} query {n} ({j.query!r})"
        if j.brand not in articles:
            raise SystemExit(f"{where}: unknown brand {j.brand!r}")
        if not j.relevant:
            raise SystemExit(f"{where}: no relevant articles")
        unknown = [k for k in j.relevant if k not in articles[j.brand]]
        if unknown:
            raise SystemExit(f"{where}: not demo article keys of {j.brand}: {unknown}")
        missing = [k for k in j.relevant if j.locale not in articles[j.brand][k]["translations"]]
        if missing:
            raise SystemExit(f"{where}: no {j.locale} translation for {missing}")
        judgements.append(j)
    return judgements


def article_ids(session, articles: dict[str, dict[str, dict]]) -> dict[tuple[str, str], int]:
    """(brand slug, article key) -> article id, by the titles the demo loader kept as written."""
    rows = session.execute(
        select(Brand.slug, Translation.locale, Translation.title, Translation.article_id)
        .join(Article, Article.id == Translation.article_id)
        .join(Brand, Brand.id == Article.brand_id)
    ).all()
    by_title = {(r.slug, r.locale, r.title): r.article_id for r in rows}
    ids = {}
    for slug, keyed in articles.items():
        for key, article in keyed.items():
            found = {
                by_title.get((slug, loc, tr["title"]))
                for loc, tr in article["translations"].items()
            }
            if len(found) != 1 or None in found:
                raise SystemExit(f"cannot map {slug}/{key} to one article (found {found})")
            ids[(slug, key)] = found.pop()
    return ids


def warn_invisible(session, judgements, ids, now) -> None:
    """A judged article that visitors cannot see (scheduled, say) can never be found: say so."""
    visible_pairs = set(
        session.execute(
            select(Translation.article_id, Translation.locale).where(visible(now))
        ).all()
    )
    for j in judgements:
        for key in j.relevant:
            if (ids[(j.brand, key)], j.locale) not in visible_pairs:
                print(f"warning: {key} ({j.locale}) is not visible now; {j.query!r} cannot find it")


# ------------------------------------------------------------------ metrics


def score(results, relevant_ids: list[int]) -> Outcome:
    """Reciprocal rank of the first relevant article and recall@5, by article."""
    ranked = []
    for hit in results.hits:
        if hit.article_id not in ranked:
            ranked.append(hit.article_id)
    rank = next((i for i, a in enumerate(ranked, start=1) if a in relevant_ids), None)
    found = len(set(ranked[:RECALL_AT]) & set(relevant_ids))
    return Outcome(
        rank=rank,
        rr=1.0 / rank if rank else 0.0,
        recall=found / len(relevant_ids),
        total=results.total,
        top=tuple(h.translation_id for h in results.hits[:3]),
    )


def mean(values) -> float:
    values = list(values)
    return sum(values) / len(values) if values else 0.0


# ------------------------------------------------------------------ printing


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def fit(text: str, columns: int) -> str:
    """Cut and pad to a display width (CJK characters take two columns)."""
    out, used = "", 0
    for c in text:
        w = width(c)
        if used + w > columns - (1 if width(text) > columns else 0):
            out += "…"
            used += 1
            break
        out += c
        used += w
    return out + " " * (columns - used)


def print_queries(judgements, index_outcomes, db_outcomes, titles) -> None:
    print()
    print(
        f"{'lang':<4}  {fit('query', 24)}  {'rank':>4}  {'RR':>4}  {'R@5':>4}  {'hits':>4}  "
        f"{'db':>3}  top 3 (index)"
    )
    for lang in LANGUAGES:
        for j, o, d in zip(judgements, index_outcomes, db_outcomes, strict=True):
            if j.locale != lang:
                continue
            top = " | ".join(fit(titles[t], 30).rstrip() for t in o.top) or "(no results)"
            rank = str(o.rank) if o.rank else "-"
            db_rank = str(d.rank) if d.rank else "-"
            print(
                f"{j.locale:<4}  {fit(j.query, 24)}  {rank:>4}  {o.rr:4.2f}  {o.recall:4.2f}  "
                f"{o.total:>4}  {db_rank:>3}  {top}"
            )
        print()


def print_summary(judgements, index_outcomes, db_outcomes) -> None:
    by_lang = defaultdict(list)
    for j, o, d in zip(judgements, index_outcomes, db_outcomes, strict=True):
        by_lang[j.locale].append((o, d))
    print()
    print(
        f"{'lang':<4}  {'n':>3}  {'MRR':>5}  {'R@5':>5}  {'empty':>5}   "
        f"{'db MRR':>6}  {'db R@5':>6}  {'db empty':>8}   verdict (MRR >= {MRR_TARGET})"
    )
    verdicts = []
    for lang in LANGUAGES:
        pairs = by_lang.get(lang, [])
        mrr = mean(o.rr for o, _ in pairs)
        recall = mean(o.recall for o, _ in pairs)
        empty = sum(1 for o, _ in pairs if o.total == 0)
        db_mrr = mean(d.rr for _, d in pairs)
        db_recall = mean(d.recall for _, d in pairs)
        db_empty = sum(1 for _, d in pairs if d.total == 0)
        ok = bool(pairs) and mrr >= MRR_TARGET
        verdicts.append(ok)
        print(
            f"{lang:<4}  {len(pairs):>3}  {mrr:5.3f}  {recall:5.3f}  {empty:>5}   "
            f"{db_mrr:6.3f}  {db_recall:6.3f}  {db_empty:>8}   {'PASS' if ok else 'FAIL'}"
        )
    all_pairs = [p for lang in LANGUAGES for p in by_lang.get(lang, [])]
    print(
        f"{'all':<4}  {len(all_pairs):>3}  {mean(o.rr for o, _ in all_pairs):5.3f}  "
        f"{mean(o.recall for o, _ in all_pairs):5.3f}  "
        f"{sum(1 for o, _ in all_pairs if o.total == 0):>5}   "
        f"{mean(d.rr for _, d in all_pairs):6.3f}  {mean(d.recall for _, d in all_pairs):6.3f}  "
        f"{sum(1 for _, d in all_pairs if d.total == 0):>8}   "
        f"{'PASS' if all(verdicts) else 'FAIL'}"
    )
    print(
        f"\nMRR: mean of 1/rank of the first relevant article (0 when not in the top {PER_PAGE}); "
        f"R@5: relevant articles in the top {RECALL_AT} / relevant articles; "
        "empty: queries with no results; db: the database fallback search (LIKE, no ranking)."
    )


# ------------------------------------------------------------------ the run


def run(verbose: bool) -> None:
    articles = demo_articles()
    judgements = load_judgements(JUDGEMENTS, articles)
    with temporary_instance(
        "portal-search-bench-",
        settings={"SECRET_KEY": "bench", "TESTING": True},
        announce=None,
    ) as instance:
        app = instance.app
        with app.app_context():
            ids = article_ids(db.session, articles)
            brand_ids = dict(db.session.execute(select(Brand.slug, Brand.id)).all())
            titles = dict(db.session.execute(select(Translation.id, Translation.title)).all())
            service = search.service(app)
            count = service.rebuild(db.session)
            print(
                f"{len(judgements)} judged queries; {len(ids)} demo articles, "
                f"{count} translations indexed",
                flush=True,
            )
            now = clock.now()
            warn_invisible(db.session, judgements, ids, now)
            index_outcomes, db_outcomes = [], []
            for j in judgements:
                request = SearchRequest(
                    brand_id=brand_ids[j.brand],
                    locales=(j.locale,),
                    text=j.query,
                    now=now,
                    per_page=PER_PAGE,
                )
                relevant_ids = [ids[(j.brand, key)] for key in j.relevant]
                index_outcomes.append(score(service.index.search(request), relevant_ids))
                db_outcomes.append(score(database_search(db.session, request), relevant_ids))
            service.index.close()
        if verbose:
            print_queries(judgements, index_outcomes, db_outcomes, titles)
        print_summary(judgements, index_outcomes, db_outcomes)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--verbose", action="store_true", help="print the per-query table before the summary"
    )
    args = parser.parse_args()
    run(args.verbose)
    return 0


if __name__ == "__main__":
    sys.exit(main())
