"""The search index inside the app: kept in step with the database, with a fallback.

- After every commit that changes articles, their documents are re-indexed (kb.changes hook).
- At start (outside tests) and with `flask search check/reindex`, the index is reconciled with
  the database: missing, extra and stale documents.
- If the index is missing or damaged, searches are answered by the database search, staff see
  a notice, and the index is rebuilt in the background: never a 500.
"""

import fcntl
import hashlib
import logging
import re
import threading
from dataclasses import replace
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session

from kb import changes
from kb.search import (
    IndexUnavailable,
    SearchRequest,
    SearchResults,
    WhooshIndex,
    database_search,
)
from kb.search import documents as docs
from kb.search.query import typed_prefix
from portal.extensions import db
from portal.web.serving import serving

log = logging.getLogger(__name__)
_EXTENSION = "portal.search"


def index_folder(instance_path: Path, database_url) -> Path:
    """instance/search/<database>/: one index per database, so two databases served from one
    checkout (the demo on SQLite and on PostgreSQL, say) never write into each other's index
    and leave it stale. The name is readable (backend, database name) and unique (a hash of the
    URL without its password; a SQLite path made absolute)."""
    url = make_url(str(database_url)) if not isinstance(database_url, URL) else database_url
    backend = url.get_backend_name()
    database = url.database or ""
    if backend == "sqlite" and database and database != ":memory:":
        database = str(Path(database).resolve())
    identity = f"{backend}://{url.username or ''}@{url.host or ''}:{url.port or ''}/{database}"
    digest = hashlib.sha256(identity.encode()).hexdigest()[:12]
    name = re.sub(r"[^A-Za-z0-9_-]+", "_", Path(database).stem if backend == "sqlite" else database)
    return instance_path / "search" / f"{backend}-{name[:40] or 'memory'}-{digest}"


class SearchService:
    def __init__(self, app: Flask):
        self.app = app
        with app.app_context():
            self.engine = db.engine
        self.folder = index_folder(Path(app.instance_path), self.engine.url)
        self.index = WhooshIndex(self.folder / "index")
        self._rebuilding = threading.Lock()

    # -- answering -----------------------------------------------------------------------

    def search(self, session: Session, request: SearchRequest) -> SearchResults:
        try:
            results = self.index.search(request)
            if results.total == 0 and not request.prefix_last:
                # What instant search listed for `ref` is found on the results page too.
                begun = replace(request, prefix_last=True)
                if typed_prefix(begun):
                    results = self.index.search(begun)
        except IndexUnavailable as exc:
            log.warning("Search index unavailable (%s); answering from the database", exc)
            self.rebuild_in_background()
            return database_search(session, request)
        if results.total == 0 and request.words:
            results.suggestion = self._checked_suggestion(request)
        return results

    def _checked_suggestion(self, request: SearchRequest) -> str | None:
        """A correction whose words are in this brand's visible articles (see suggest)."""
        try:
            return self.index.suggest(request)
        except IndexUnavailable:
            return None

    # -- following the database ----------------------------------------------------------

    def on_commit(self, session: Session, article_ids: set, deleted_ids: set) -> None:
        if session.get_bind() is not self.engine:
            return  # another app's or a test's own session
        if not self.index.exists():
            self.rebuild_in_background()  # all of it, not just these articles
            return
        try:
            with Session(self.engine) as fresh:
                documents = list(docs.documents(fresh, article_ids=article_ids))
            self.index.update(documents, deleted_ids)
        except Exception:
            # The commit stands; `search check` and the reconcile at start catch this up.
            log.exception("Could not update the search index for articles %s", article_ids)

    def check(self, session: Session) -> dict[str, set[int]]:
        """missing, extra and stale translation ids between the database and the index."""
        in_db = docs.stamps(session)
        in_index = self.index.stamps()
        return {
            "missing": set(in_db) - set(in_index),
            "extra": set(in_index) - set(in_db),
            "stale": {i for i, stamp in in_db.items() if i in in_index and in_index[i] != stamp},
        }

    def reconcile(self, session: Session) -> dict[str, set[int]]:
        if not self.index.exists():
            self.rebuild(session)
            return {"missing": set(), "extra": set(), "stale": set(), "rebuilt": True}
        found = self.check(session)
        todo = found["missing"] | found["stale"]
        if todo or found["extra"]:
            self.index.update(docs.documents(session, translation_ids=todo), found["extra"])
        return found

    def rebuild(self, session: Session, brand_id: int | None = None, progress=None) -> int:
        if brand_id is None or not self.index.exists():
            # (one brand alone into a missing or outdated index would leave the others out)
            return self.index.rebuild(docs.documents(session), progress)
        fresh = list(docs.documents(session, brand_id=brand_id))
        keep = {d.translation_id for d in fresh}
        stale = self.index.ids_for_brand(brand_id) - keep  # gone from the database
        count = 0
        for start in range(0, len(fresh), 500):
            count += self.index.update(fresh[start : start + 500], stale if start == 0 else ())
            if progress:
                progress(len(fresh[start : start + 500]))
        return count

    def rebuild_in_background(self) -> None:
        if not self._rebuilding.acquire(blocking=False):
            return

        def work():
            try:
                with self._exclusive() as mine:
                    if mine:
                        with Session(self.engine) as session:
                            count = self.rebuild(session)
                        log.warning("Search index rebuilt: %s documents", count)
                        # Commits made while it was built saw no index and were not applied.
                        with Session(self.engine) as session:
                            self.reconcile(session)
            except Exception:
                log.exception("Rebuilding the search index failed")
            finally:
                self._rebuilding.release()

        threading.Thread(target=work, name="search-rebuild", daemon=True).start()

    def reconcile_in_background(self) -> None:
        def work():
            try:
                with self._exclusive() as mine, Session(self.engine) as session:
                    if mine:
                        found = self.reconcile(session)
                        if any(found.get(k) for k in ("missing", "extra", "stale")):
                            log.warning(
                                "Search index reconciled: %s",
                                {k: len(v) for k, v in found.items() if k != "rebuilt"},
                            )
            except Exception:
                log.exception("Reconciling the search index failed")

        threading.Thread(target=work, name="search-reconcile", daemon=True).start()

    class _Exclusive:
        """One process at a time rebuilds or reconciles (a file lock beside the index)."""

        def __init__(self, path: Path):
            path.parent.mkdir(parents=True, exist_ok=True)
            self.file = open(path, "a")  # noqa: SIM115 - closed in __exit__

        def __enter__(self) -> bool:
            try:
                fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except OSError:
                return False

        def __exit__(self, *exc):
            self.file.close()  # releases the lock

    def _exclusive(self):
        return self._Exclusive(self.folder / ".maintenance.lock")

    def clear(self) -> None:
        """Empty the index (tests start each case from nothing)."""
        self.index.rebuild([])


def service(app: Flask | None = None) -> SearchService:
    return (app or current_app).extensions[_EXTENSION]


def init_app(app: Flask) -> None:
    svc = SearchService(app)
    app.extensions[_EXTENSION] = svc
    changes.on_commit(svc.on_commit)
    if not app.testing and serving() and app.config.get("SEARCH_RECONCILE_ON_START", True):
        svc.reconcile_in_background()
    _register_cli(app)


def _register_cli(app: Flask) -> None:
    group = AppGroup("search", help="The search index: rebuild and check.")

    @group.command("reindex")
    @click.option("--brand", "brand_slug", default=None, help="Only this brand (its slug).")
    def reindex(brand_slug):
        """Rebuild the index from the database."""
        from sqlalchemy import select

        from kb.models import Brand

        svc = service()
        brand_id = None
        if brand_slug:
            brand = db.session.scalar(select(Brand).where(Brand.slug == brand_slug))
            if brand is None:
                raise click.BadParameter(f"no brand {brand_slug!r}", param_hint="--brand")
            brand_id = brand.id
        total = docs.count(db.session, brand_id)
        with click.progressbar(length=total, label="Indexing") as bar:
            count = svc.rebuild(db.session, brand_id, progress=bar.update)
        click.echo(f"Indexed {count} translations.")

    @group.command("check")
    def check():
        """Report documents missing from, extra in, or stale in the index."""
        svc = service()
        if not svc.index.exists():
            click.echo("The search index is missing: run `flask --app portal search reindex`.")
            raise SystemExit(1)
        found = svc.check(db.session)
        for name in ("missing", "extra", "stale"):
            ids = sorted(found[name])
            sample = ", ".join(map(str, ids[:10])) + (" ..." if len(ids) > 10 else "")
            click.echo(f"{name:>8}: {len(ids)}" + (f" ({sample})" if ids else ""))
        if any(found.values()):
            raise SystemExit(1)

    app.cli.add_command(group)
