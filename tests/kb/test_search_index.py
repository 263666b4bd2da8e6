"""The Whoosh index on its own: visibility inside the query, ranking, snippets, facets, upkeep."""

import gc
import sys
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from kb.search import Document, IndexUnavailable, SearchRequest, WhooshIndex
from kb.search.documents import FOREVER, documents, epoch

T = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
BRAND, OTHER_BRAND = 1, 2


def doc(translation_id, title, text="", **fields) -> Document:
    values = dict(
        translation_id=translation_id,
        article_id=translation_id,
        brand_id=BRAND,
        locale="en",
        kind="guide",
        section_id=10,
        labels=(),
        title=title,
        text=text,
        status="published",
        publish_at=epoch(T - timedelta(days=1)),
        unpublish_at=FOREVER,
        promoted=False,
        stamp=f"stamp-{translation_id}",
    )
    values.update(fields)
    return Document(**values)


def ask(text, now=T, brand_id=BRAND, locales=("en",), **options) -> SearchRequest:
    return SearchRequest(brand_id=brand_id, locales=locales, text=text, now=now, **options)


def ids(results) -> list[int]:
    return [hit.translation_id for hit in results.hits]


@pytest.fixture
def index(tmp_path):
    index = WhooshIndex(tmp_path / "index")
    index.create()
    yield index
    index.close()


HIDDEN = {
    "draft": dict(status="draft"),
    "archived": dict(status="archived"),
    "scheduled": dict(publish_at=epoch(T + timedelta(hours=1))),
    "unpublished": dict(unpublish_at=epoch(T - timedelta(hours=1))),
    "other brand": dict(brand_id=OTHER_BRAND),
    "other locale": dict(locale="ko"),
}


@pytest.mark.parametrize("hidden", HIDDEN.values(), ids=HIDDEN.keys())
def test_hidden_documents_are_not_in_hits_counts_or_facets(index, hidden):
    index.update(
        [
            doc(1, "Router lights", "The router blinks."),
            doc(2, "Router secrets", "Hidden router notes.", kind="faq", section_id=20, **hidden),
        ]
    )
    results = index.search(ask("router"))
    assert ids(results) == [1]
    assert results.total == 1
    assert results.facets == {"section": {10: 1}, "kind": {"guide": 1}}


def test_scheduled_document_is_found_from_its_publish_second(index):
    index.update([doc(1, "Winter sale", publish_at=epoch(T))])
    assert index.search(ask("sale", now=T - SECOND)).total == 0
    assert ids(index.search(ask("sale", now=T))) == [1]
    assert ids(index.search(ask("sale", now=T + SECOND))) == [1]


def test_unpublished_document_is_gone_from_its_unpublish_second(index):
    index.update([doc(1, "Winter sale", unpublish_at=epoch(T))])
    assert ids(index.search(ask("sale", now=T - SECOND))) == [1]
    assert index.search(ask("sale", now=T)).total == 0


def test_word_in_the_title_ranks_above_the_same_word_in_the_body(index):
    index.update(
        [
            doc(1, "When the screen stays dark", "A lockout message appears after five tries."),
            doc(2, "Account lockout", "Wait ten minutes, then try again."),
        ]
    )
    assert ids(index.search(ask("lockout"))) == [2, 1]


def test_snippet_marks_the_match_and_escapes_markup_from_the_text(index):
    index.update([doc(1, "Paying", "Pay the invoice now. <img src=x onerror=alert(1)> Thanks.")])
    snippet = index.search(ask("invoice")).hits[0].snippet
    assert "<mark>invoice</mark>" in snippet
    assert "&lt;img" in snippet
    assert "<img" not in snippet


def test_facets_count_matches_by_kind_and_section(index):
    index.update(
        [
            doc(1, "Reset the modem", section_id=10),
            doc(2, "Modem lights", section_id=10),
            doc(3, "Is my modem supported?", kind="faq", section_id=20),
            doc(4, "Replace the cable", section_id=20),
        ]
    )
    facets = index.search(ask("modem")).facets
    assert facets == {"section": {10: 2, 20: 1}, "kind": {"guide": 2, "faq": 1}}


def test_kind_and_section_narrow_the_hits_but_not_the_facets(index):
    index.update(
        [
            doc(1, "Reset the modem", section_id=10),
            doc(2, "Is my modem supported?", kind="faq", section_id=20),
            doc(3, "Modem lights", section_id=20),
        ]
    )
    by_kind = index.search(ask("modem", kind="faq"))
    by_section = index.search(ask("modem", section_id=20))
    assert ids(by_kind) == [2] and by_kind.total == 1
    assert sorted(ids(by_section)) == [2, 3] and by_section.total == 2
    assert by_kind.facets["kind"] == {"guide": 2, "faq": 1}


def test_second_page_holds_the_hits_after_the_first_ten(index):
    index.update([doc(i, f"Modem guide {i}") for i in range(1, 13)])
    first, second = index.search(ask("modem")), index.search(ask("modem", page=2))
    assert first.total == second.total == 12 and first.pages == 2
    assert len(first.hits) == 10 and len(second.hits) == 2
    assert set(ids(first)).isdisjoint(ids(second))


def test_every_requested_locale_is_searched_with_its_own_analyser(index):
    index.update([doc(1, "결제수단 변경", "카드를 바꾸세요.", locale="ko")])
    assert index.search(ask("결제")).total == 0
    assert ids(index.search(ask("결제", locales=("en", "ko")))) == [1]


def test_quoted_phrase_must_appear_as_typed(index):
    index.update([doc(1, "Account lockout"), doc(2, "Lockout of a shared account")])
    assert ids(index.search(ask('"account lockout"'))) == [1]


def test_quoted_korean_phrase_needs_its_words_side_by_side(index):
    index.update(
        [
            doc(1, "비밀번호 변경", "그 사용자의 비밀번호를 바꿉니다.", locale="ko"),
            doc(2, "사용자 관리", "그리고 사용자를 추가합니다.", locale="ko"),
        ]
    )
    assert ids(index.search(ask('"그 사용자"', locales=("ko",)))) == [1]


def test_common_phrase_beyond_the_checked_candidates_gives_estimated_counts(index, monkeypatch):
    monkeypatch.setattr("kb.search.index.PHRASE_CHECKS", 4)
    both = [doc(i, f"Reset password {i}", "Reset password here.") for i in range(1, 9)]
    apart = [doc(i, f"Password {i}", "Reset the password.") for i in range(9, 17)]
    index.update(both + apart)
    results = index.search(ask('"reset password"'))
    assert results.approximate
    assert set(ids(results)) <= set(range(1, 9)) and ids(results)  # only checked ones shown
    assert len(ids(results)) <= results.total <= 16


def test_ranking_follows_bm25_term_frequency_and_length(index):
    index.update(
        [
            doc(1, "Modem", "modem " + "other words here " * 40),
            doc(2, "Modem", "modem modem modem, a short one."),
            doc(3, "Router", "the modem sits behind it " + "filler " * 80),
        ]
    )
    results = index.search(ask("modem"))
    assert ids(results) == [2, 1, 3]
    assert results.hits[0].score > results.hits[1].score > results.hits[2].score > 0


def test_lone_korean_function_word_beside_other_words_is_left_out(index):
    index.update([doc(1, "카드 등록", "카드를 등록할 수 있습니다.", locale="ko")])
    assert ask("등록할 수 있습니다").words == ["등록할", "있습니다"]
    assert ask("수").words == ["수"]
    assert ids(index.search(ask("등록할 수 있습니다", locales=("ko",)))) == [1]


@pytest.mark.parametrize("text", ["title:secret", "brand_id:2 secret", "secret*", "secre?"])
def test_query_syntax_is_searched_as_plain_words(index, text):
    index.update([doc(1, "Secret plans", brand_id=OTHER_BRAND), doc(2, "Public plans")])
    assert index.search(ask(text)).total == 0


def test_update_replaces_the_document_of_a_translation(index):
    index.update([doc(1, "Old title")])
    index.update([replace(doc(1, "New heading"), stamp="changed")])
    assert index.search(ask("old")).total == 0
    assert ids(index.search(ask("heading"))) == [1]
    assert index.stamps() == {1: "changed"}


def test_update_deletes_the_given_translations(index):
    index.update([doc(1, "Modem one"), doc(2, "Modem two")])
    index.update([], [1])
    assert ids(index.search(ask("modem"))) == [2]
    assert set(index.stamps()) == {2}


def test_rebuild_replaces_everything_the_index_held(index):
    index.update([doc(1, "Modem one"), doc(2, "Modem two")])
    assert index.rebuild([doc(3, "Modem three")]) == 1
    assert ids(index.search(ask("modem"))) == [3]
    assert list(index.path.parent.iterdir()) == [index.path]  # no leftover build folders


def test_index_stamps_equal_the_database_stamps_after_indexing(index, session, make):
    brand = make.brand(locales=("en", "ko"))
    article = make.article(make.section(make.category(brand)))
    index.update(documents(session))
    expected = {d.translation_id: d.stamp for d in documents(session)}
    assert set(expected) == {t.id for t in article.translations}
    assert index.stamps() == expected


def test_documents_follow_the_database_rows(session, make):
    brand = make.brand(locales=("en",))
    section = make.section(make.category(brand))
    article = make.article(
        section, {"en": "Pay by card"}, body="Use **any** card.", kind="faq", labels=("billing",)
    )
    (found,) = documents(session)
    assert (found.article_id, found.brand_id, found.section_id) == (
        article.id,
        brand.id,
        section.id,
    )
    assert (found.title, found.text, found.kind, found.labels) == (
        "Pay by card",
        "Use any card.",
        "faq",
        ("billing",),
    )
    assert found.unpublish_at == FOREVER


def test_stamp_changes_when_the_translation_changes(session, make):
    brand = make.brand(locales=("en",))
    article = make.article(make.section(make.category(brand)))
    (before,) = documents(session)
    article.translations[0].status = "draft"
    session.commit()
    (after,) = documents(session)
    assert before.stamp != after.stamp


def test_missing_index_is_unavailable(tmp_path):
    index = WhooshIndex(tmp_path / "nowhere")
    assert not index.exists()
    with pytest.raises(IndexUnavailable):
        index.search(ask("modem"))


def test_index_built_by_an_older_version_counts_as_missing(tmp_path):
    from whoosh import index as whoosh_index
    from whoosh.fields import ID, Schema

    (tmp_path / "index").mkdir()
    whoosh_index.create_in(str(tmp_path / "index"), Schema(id=ID(stored=True)))
    index = WhooshIndex(tmp_path / "index")
    assert not index.exists()
    with pytest.raises(IndexUnavailable):
        index.search(ask("modem"))
    index.rebuild([doc(1, "Modem lights")])
    assert index.exists()
    assert ids(index.search(ask("modem"))) == [1]


def outcome(call) -> str:
    """ "ok", "unavailable", or the unexpected error as text. The traceback is dropped here, as
    Whoosh leaves a damaged file open until its frames are collected (a ResourceWarning)."""
    try:
        call()
    except IndexUnavailable:
        return "unavailable"
    except Exception as exc:  # what a caller without a fallback would have to handle
        return f"{type(exc).__module__}.{type(exc).__name__}: {exc}"
    finally:
        gc.collect()
    return "ok"


@pytest.mark.filterwarnings("ignore::ResourceWarning")  # Whoosh's open file on a damaged TOC
def test_damaged_index_is_unavailable(tmp_path):
    WhooshIndex(tmp_path / "index").create()
    for path in (tmp_path / "index").iterdir():
        path.write_bytes(b"garbage " * 16)
    index = WhooshIndex(tmp_path / "index")
    assert outcome(lambda: index.search(ask("modem"))) == "unavailable"


def test_suggest_offers_the_closest_indexed_word(index):
    index.update([doc(1, "Restart your router")])
    assert index.suggest(ask("routr")) == "router"


def test_suggest_leaves_known_short_and_non_latin_words_alone(index):
    index.update([doc(1, "Restart your router")])
    assert index.suggest(ask("router")) is None
    assert index.suggest(ask("xq")) is None
    assert index.suggest(ask("결제")) is None


def test_searches_from_many_threads_at_once_get_the_same_answers(index):
    """The searcher is shared by a process's threads (a threaded server answers a page and its
    instant search together): Whoosh's readers share file positions, so without one reader at
    a time they read each other's bytes (an IndexError, a 500 seen in a browser test)."""
    words = ["modem", "router", "invoice", "refund", "password", "outage"]
    index.update(
        [
            doc(i, f"{words[i % 6]} guide {i}", f"{words[(i + 1) % 6]} and more {i}")
            for i in range(300)
        ]
    )
    index.close()  # a fresh searcher: nothing decoded yet, every thread reads the files
    expected = {w: ids(index.search(ask(w))) for w in words}
    index.close()
    errors, answers = [], []
    start = threading.Barrier(8)

    def hammer(n):
        try:
            start.wait()
            for round_ in range(15):
                word = words[(n + round_) % 6]
                answers.append((word, ids(index.search(ask(word)))))
                index.suggest(ask(word[:-1] + "x"))
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=hammer, args=(n,)) for n in range(8)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads take turns often: a shared read would be caught
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert errors == []
    assert all(found == expected[word] for word, found in answers)


def test_index_built_with_older_analysers_counts_as_missing(tmp_path, monkeypatch):
    """Issue 15 item 8: Swedish words are reduced to other terms than before, so an index built
    with the older analysers would miss inflected forms until rebuilt."""
    monkeypatch.setattr("kb.search.index.ANALYSIS_VERSION", 1)
    WhooshIndex(tmp_path / "index").rebuild([doc(1, "Modem lights")])
    monkeypatch.undo()
    index = WhooshIndex(tmp_path / "index")
    assert not index.exists()
    index.rebuild([doc(1, "Modem lights")])
    assert ids(index.search(ask("modem"))) == [1]


def test_sentence_finds_the_articles_with_some_of_its_words(index):
    """Issue 15 item 6: `refund not received` found nothing (every word had to match) while
    `refund` found the refund articles."""
    index.update(
        [
            doc(1, "Request a refund", "Refunds are paid back within five days."),
            doc(2, "Payment received", "We confirm a payment by mail."),
            doc(3, "Restart the router", "Unplug it for ten seconds."),
        ]
    )
    results = index.search(ask("refund not received"))
    assert sorted(ids(results)) == [1, 2]
    assert results.partial


def test_sentence_ranks_articles_by_how_many_of_its_words_match(index):
    index.update(
        [
            doc(1, "Cancelled orders", "An order can be cancelled until it ships."),
            doc(2, "Refund for a cancelled order", "The refund follows the cancellation."),
            doc(3, "Refunds", "Refunds take five days."),
            doc(4, "Router lights", "Unplug the router."),
        ]
    )
    results = index.search(ask("when do i get my refund for the cancelled order paid by card"))
    assert ids(results)[0] == 2
    assert 4 not in ids(results)


def test_query_with_every_word_found_is_not_partial(index):
    index.update([doc(1, "Refund not received", "Ask us when a refund is late.")])
    results = index.search(ask("refund not received"))
    assert ids(results) == [1]
    assert not results.partial


def test_short_query_still_needs_every_word(index):
    index.update([doc(1, "Request a refund", "Refunds are paid back."), doc(2, "Router help")])
    assert index.search(ask("refund router")).total == 0


@pytest.mark.parametrize(
    "locale, text, stop",
    [
        ("en", "how do i reset the password", "how"),
        ("sv", "hur byter jag lösenord", "hur"),
        ("ko", "비밀번호 어떻게 바꾸나요", "어떻게"),
        ("ja", "パスワード を 変更 する 方法", "を"),
    ],
)
def test_stop_words_of_each_language_are_left_out_beside_other_words(locale, text, stop):
    """Issue 15 item 6: stop words per language (ko, ja, sv, en) do not count as words to match."""
    from kb.search.query import content_words

    words = content_words(ask(text, locales=(locale,)), locale)
    assert stop not in words and words


@pytest.mark.parametrize("typed", ["fak", "fakt", "faktu", "fakturan"])
def test_word_being_typed_finds_the_words_it_starts(index, typed):
    """Issue 15 item 23: instant search found nothing for the first letters of a Latin-script
    word (`fak`, `fakt`), while Korean and Japanese prefixes worked."""
    index.update(
        [
            doc(1, "Betala fakturan", "Så betalar du en faktura.", locale="sv"),
            doc(2, "Byt lösenord", "Välj ett nytt lösenord.", locale="sv"),
        ]
    )
    assert ids(index.search(ask(typed, locales=("sv",), prefix_last=True))) == [1]


def test_only_the_last_word_is_taken_as_begun(index):
    index.update(
        [
            doc(1, "Request a refund", "Refunds are paid back within five days."),
            doc(2, "Refer a friend", "Both of you get a bonus."),
        ]
    )
    assert sorted(ids(index.search(ask("ref", prefix_last=True)))) == [1, 2]
    assert ids(index.search(ask("friend ref", prefix_last=True))) == [2]
    assert ids(index.search(ask("refu", prefix_last=True))) == [1]
    assert index.search(ask("ref friend", prefix_last=True)).total == 0
    assert index.search(ask("ref")).total == 0  # a submitted search takes words as typed


def test_snippet_marks_the_words_the_typed_letters_begin(index):
    """Issue 15 item 23: the instant results for `fak` mark the words it begins."""
    index.update([doc(1, "Betala", "Så betalar du en faktura och fakturan.", locale="sv")])
    snippet = index.search(ask("fak", locales=("sv",), prefix_last=True)).hits[0].snippet
    assert "<mark>faktura</mark>" in snippet and "<mark>fakturan</mark>" in snippet


def test_korean_words_with_other_particles_are_not_called_some_of_the_words(index):
    """Issue 15 item 6: "some of your words" is said only when a result lacks one of them, not
    when every word is there with another particle (결제수단을 in a text saying 결제수단)."""
    index.update([doc(1, "결제수단 등록하기", "카드를 등록하세요.", locale="ko")])
    results = index.search(ask("결제수단을 등록", locales=("ko",)))
    assert ids(results) == [1]
    assert not results.partial
