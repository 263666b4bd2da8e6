"""`flask --app portal search reindex|check`: rebuild the index, report drift from the database."""

import shutil
from dataclasses import replace

import pytest

from kb.search.documents import documents
from portal.search import service


class Runner:
    """Runs `flask --app portal <args>`: the flask command pushes an app context first."""

    def __init__(self, app):
        self.app = app

    def invoke(self, args):
        with self.app.app_context():
            return self.app.test_cli_runner().invoke(args=args)


@pytest.fixture
def runner(app):
    return Runner(app)


@pytest.fixture
def content(make):
    """acme: two articles in two languages (4 translations); globex: one in English."""
    acme = make.brand(slug="acme", locales=("en", "ko"))
    section = make.section(make.category(acme))
    articles = [make.article(section), make.article(section)]
    globex = make.brand(slug="globex", locales=("en",))
    theirs = make.article(make.section(make.category(globex)))
    return acme, globex, articles, theirs


def translation_ids(*articles) -> set[int]:
    return {t.id for article in articles for t in article.translations}


def test_search_commands_run_from_app_cli_like_the_other_commands(app, content):
    # Flask's test runner invokes app.cli itself; app.cli commands get their app context.
    # (reindex first: run alone, no earlier test has built the index)
    built = app.test_cli_runner().invoke(args=["search", "reindex"])
    assert built.exception is None, repr(built.exception)
    result = app.test_cli_runner().invoke(args=["search", "check"])
    assert result.exception is None, repr(result.exception)
    assert result.exit_code == 0


def test_reindex_rebuilds_every_translation_and_says_how_many(app, runner, content):
    acme, globex, articles, theirs = content
    index = service(app).index
    index.update([], translation_ids(*articles))  # drift: the index lost acme's documents
    result = runner.invoke(args=["search", "reindex"])
    assert result.exit_code == 0, result.output
    assert "Indexed 5 translations." in result.output
    assert set(index.stamps()) == translation_ids(*articles, theirs)


def test_reindex_rebuilds_a_missing_index(app, runner, content):
    index = service(app).index
    shutil.rmtree(index.path)
    result = runner.invoke(args=["search", "reindex"])
    assert result.exit_code == 0, result.output
    assert index.exists() and len(index.stamps()) == 5


def test_reindex_of_one_brand_indexes_only_that_brand(app, runner, content):
    acme, globex, articles, theirs = content
    index = service(app).index
    index.update([], translation_ids(*articles, theirs))
    result = runner.invoke(args=["search", "reindex", "--brand", "acme"])
    assert result.exit_code == 0, result.output
    assert "Indexed 4 translations." in result.output
    assert set(index.stamps()) == translation_ids(*articles)


def test_reindex_of_one_brand_drops_its_documents_no_longer_in_the_database(
    app, ctx, runner, content
):
    acme, globex, articles, theirs = content
    index = service(app).index
    (real,) = documents(ctx, translation_ids=[articles[0].translations[0].id])
    index.update([replace(real, translation_id=10**9, title="Deleted long ago")])
    runner.invoke(args=["search", "reindex", "--brand", "acme"])
    assert 10**9 not in index.stamps()


def test_reindex_of_an_unknown_brand_fails_with_a_clear_message(app, runner, content):
    before = service(app).index.stamps()
    result = runner.invoke(args=["search", "reindex", "--brand", "nope"])
    assert result.exit_code != 0
    assert "no brand 'nope'" in result.output
    assert service(app).index.stamps() == before


def test_check_reports_a_missing_document_and_exits_1(app, runner, content):
    acme, globex, articles, theirs = content
    lost = articles[0].translations[0].id
    service(app).index.update([], [lost])
    result = runner.invoke(args=["search", "check"])
    assert result.exit_code == 1
    assert f"missing: 1 ({lost})" in result.output
    assert "extra: 0" in result.output and "stale: 0" in result.output


def test_check_after_reindex_reports_nothing_and_exits_0(app, runner, content):
    acme, globex, articles, theirs = content
    service(app).index.update([], [articles[0].translations[0].id])
    assert runner.invoke(args=["search", "reindex"]).exit_code == 0
    result = runner.invoke(args=["search", "check"])
    assert result.exit_code == 0, result.output
    for line in ("missing: 0", "extra: 0", "stale: 0"):
        assert line in result.output


def test_check_reports_a_stale_document(app, ctx, runner, content):
    acme, globex, articles, theirs = content
    (current,) = documents(ctx, translation_ids=[articles[0].translations[0].id])
    service(app).index.update([replace(current, stamp="from an older version")])
    result = runner.invoke(args=["search", "check"])
    assert result.exit_code == 1
    assert f"stale: 1 ({current.translation_id})" in result.output


def test_check_without_an_index_says_to_reindex(app, runner, content):
    shutil.rmtree(service(app).index.path)
    result = runner.invoke(args=["search", "check"])
    assert result.exit_code == 1
    assert "search reindex" in result.output
