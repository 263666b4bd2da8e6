"""Analysers as a searcher sees them: Korean and Japanese inside runs, stemming, widths."""

import re

import pytest

from kb import clock
from kb.models import Translation
from kb.search import SearchRequest, WhooshIndex
from kb.search.analysis import pair_terms, terms
from kb.search.documents import documents


@pytest.fixture
def brand(make):
    return make.brand(locales=("ko", "ja", "en", "sv"))


@pytest.fixture
def section(make, brand):
    return make.section(make.category(brand))


@pytest.fixture
def search(tmp_path, session, brand):
    """search(locale, text) -> results, after indexing every translation in the session."""
    index = WhooshIndex(tmp_path / "index")
    index.create()

    def run(locale, text):
        index.update(documents(session))
        request = SearchRequest(brand_id=brand.id, locales=(locale,), text=text, now=clock.now())
        return index.search(request)

    yield run
    index.close()


@pytest.fixture
def found(search, session):
    """found(locale, text) -> the titles of the hits, best first."""

    def titles(locale, text):
        hits = search(locale, text).hits
        return [session.get(Translation, hit.translation_id).title for hit in hits]

    return titles


def test_korean_word_is_found_inside_longer_runs(found, make, section):
    make.article(section, {"ko": "결제수단을 바꾸는 방법"}, body="카드를 새로 등록하세요.")
    make.article(section, {"ko": "환불 안내"}, body="결제가 취소되면 환불됩니다.")
    make.article(section, {"ko": "비밀번호 재설정"}, body="메일을 확인하세요.")
    assert sorted(found("ko", "결제")) == ["결제수단을 바꾸는 방법", "환불 안내"]


def test_japanese_word_is_found_inside_longer_runs(found, make, section):
    make.article(section, {"ja": "支払い方法の変更"}, body="カードを登録してください。")
    make.article(section, {"ja": "パスワードの再設定"}, body="メールを確認してください。")
    assert found("ja", "支払い") == ["支払い方法の変更"]


def test_swedish_singular_finds_plural(found, make, section):
    make.article(section, {"sv": "Hantera prenumerationer"}, body="Avsluta när du vill.")
    assert found("sv", "prenumeration") == ["Hantera prenumerationer"]


def test_english_singular_finds_plural_and_back(found, make, section):
    make.article(section, {"en": "Download invoices"}, body="Every month.")
    make.article(section, {"en": "Change the battery"}, body="Open the cover.")
    assert found("en", "invoice") == ["Download invoices"]
    assert found("en", "batteries") == ["Change the battery"]


def test_english_product_name_in_korean_text_is_found(found, make, section):
    make.article(section, {"ko": "결제 안내"}, body="Hanbit 앱에서 결제 내역을 확인하세요.")
    assert found("ko", "Hanbit") == ["결제 안내"]
    assert found("ko", "hanbit 결제") == ["결제 안내"]


def test_latin_word_written_against_hangul_is_found(found, make, section):
    # Korean writes particles and nouns straight after Latin names: QR코드로, Hanbit앱에서.
    make.article(section, {"ko": "간편 결제"}, body="QR코드로 결제하거나 Hanbit앱에서 결제하세요.")
    assert found("ko", "QR") == ["간편 결제"]
    assert found("ko", "Hanbit") == ["간편 결제"]
    assert found("ko", "코드") == ["간편 결제"]


def test_full_width_query_finds_half_width_text(found, make, section):
    make.article(section, {"ko": "QR 결제", "en": "Pay by QR"}, body="QR code")
    assert found("ko", "ＱＲ") == ["QR 결제"]
    assert found("en", "ＱＲ") == ["Pay by QR"]


def test_half_width_query_finds_full_width_korean_text(found, make, section):
    make.article(section, {"ko": "ＱＲ 결제"}, body="ＱＲ 코드를 스캔하세요.")
    assert found("ko", "QR") == ["ＱＲ 결제"]


def test_half_width_query_finds_full_width_english_text(found, make, section):
    make.article(section, {"en": "Pay by ＱＲ code"}, body="Scan the ＱＲ code at the till.")
    assert found("en", "QR") == ["Pay by ＱＲ code"]


def test_half_width_katakana_matches_full_width(found, make, section):
    make.article(section, {"ja": "ｼﾊﾗｲ について"}, body="ｶｰﾄﾞ で払えます。")
    assert found("ja", "シハライ") == ["ｼﾊﾗｲ について"]


def test_single_korean_syllable_query_does_not_crash(found, make, section):
    make.article(section, {"ko": "결제 안내"}, body="카드 결제")
    assert found("ko", "결") == ["결제 안내"]
    assert found("ko", "휑") == []


def test_query_terms_are_the_index_terms():
    # The same analyser on both sides: a query becomes exactly the bigrams the text was indexed as.
    assert terms("ko", "결제수단") == ["결제", "제수", "수단"]
    assert terms("ja", "支払い") == ["支払", "払い"]
    assert terms("en", "ＱＲ Invoices") == ["qr", "invoic"]


def test_korean_snippet_marks_the_searched_word_after_compatibility_characters(
    search, make, section
):
    # ㈜ and … grow under NFKC ((주), ...): the marks must still land on the word in the text.
    make.article(
        section, {"ko": "결제 내역"}, body="㈜한빛… 회원님의 결제 내역은 여기에서 확인하세요."
    )
    snippet = search("ko", "결제").hits[0].snippet
    assert "<mark>결제</mark>" in snippet
    assert "<mark>역은</mark>" not in snippet


@pytest.mark.parametrize(
    "text, pairs",
    [
        ("Reset  password, now", ["reset password"]),
        ("설정합니다 이 앱", ["다 이", "이 앱"]),
        ("QR결제 앱을 여세요", ["제 앱", "을 여"]),
        ("Mobile의 닫으세요", ["의 닫"]),
        ("설정합니다. 이", []),
    ],
)
def test_word_pairs_join_neighbours_across_spaces_only(text, pairs):
    assert pair_terms(text) == pairs


@pytest.mark.parametrize(
    "locale, body, query",
    [
        ("ja", "パスワードを忘れた場合はメールを確認してください。", "パスワード"),
        ("ja", "支払いにはカードを使えます。", "支払い"),
        ("ko", "결제수단을 새로 등록하세요.", "결제수단"),
    ],
)
def test_cjk_highlight_marks_the_whole_matched_word_of_odd_length(
    search, make, section, locale, body, query
):
    """Issue 15 item 7: パスワード was marked as <mark>パス</mark><mark>ワー</mark>ド and 支払い as
    <mark>支払</mark>い: the overlapping bigrams of a match are one highlighted span."""
    make.article(section, {locale: "Title"}, body=body)
    snippet = search(locale, query).hits[0].snippet
    assert f"<mark>{query}</mark>" in snippet
    assert "</mark><mark>" not in snippet


def test_separate_latin_words_are_marked_one_by_one(search, make, section):
    make.article(section, {"en": "Refunds"}, body="Ask for a refund refund today.")
    snippet = search("en", "refund").hits[0].snippet
    assert "<mark>refund</mark> <mark>refund</mark>" in snippet


@pytest.mark.parametrize(
    "locale, body, query",
    [
        (
            "ko",
            "회원님께서는결제수단을변경하려면설정화면에서카드를선택한다음새로운카드를등록하시고"
            " 마지막으로 환불요청을보내세요",
            "환불",
        ),
        (
            "en",
            "Customers who don't see the e-mail with their sign-in link should look in the spam"
            " folder, where the invoice often lands.",
            "invoice",
        ),
    ],
)
def test_snippet_starts_at_a_word_boundary(search, make, section, locale, body, query):
    """Issue 15 item 34: a snippet began in the middle of a word ("제수단을변경하려면...")."""
    make.article(section, {locale: "Title"}, body=body)
    snippet = search(locale, query).hits[0].snippet
    shown = re.sub(r"<[^>]+>", "", snippet).split(" … ")[0]
    start = body.find(shown)
    assert start >= 0, shown
    assert start == 0 or body[start - 1] == " ", shown


def test_swedish_base_form_finds_plural_and_participle(found, make, section):
    """Issue 15 item 8: `licens` found nothing in an article saying `licenser` and
    `licensierade`, while `licenser` found it (licens was stemmed to lic, licenser to licens)."""
    make.article(section, {"sv": "Hantera användare"}, body="Alla licenser är licensierade per år.")
    assert found("sv", "licens") == ["Hantera användare"]
    assert found("sv", "licenser") == ["Hantera användare"]


SWEDISH_NOUNS = [
    ("licens", "licensen", "licenser", "licenserna"),
    ("faktura", "fakturan", "fakturor", "fakturorna"),
    ("konto", "kontot", "konton", "kontona"),
    ("kort", "kortet", "korten", "korten"),
    ("kvitto", "kvittot", "kvitton", "kvittona"),
    ("lösenord", "lösenordet", "lösenord", "lösenorden"),
    ("betalning", "betalningen", "betalningar", "betalningarna"),
    ("avgift", "avgiften", "avgifter", "avgifterna"),
    ("adress", "adressen", "adresser", "adresserna"),
    ("kurs", "kursen", "kurser", "kurserna"),
    ("pris", "priset", "priser", "priserna"),
    ("abonnemang", "abonnemanget", "abonnemang", "abonnemangen"),
    ("app", "appen", "appar", "apparna"),
    ("användare", "användaren", "användare", "användarna"),
]
ENGLISH_NOUNS = [
    ("invoice", "invoices"),
    ("refund", "refunds"),
    ("battery", "batteries"),
    ("address", "addresses"),
    ("company", "companies"),
    ("password", "passwords"),
    ("policy", "policies"),
    ("box", "boxes"),
    ("fee", "fees"),
]


@pytest.mark.parametrize(
    "locale, forms",
    [("sv", forms) for forms in SWEDISH_NOUNS] + [("en", forms) for forms in ENGLISH_NOUNS],
    ids=lambda v: v if isinstance(v, str) else v[0],
)
def test_every_singular_plural_and_definite_form_finds_the_others(
    found, make, section, locale, forms
):
    """Issue 15 item 8: the query side and the index side reduce every form of a noun (singular,
    plural, definite) to the same base, so each form finds an article written with any other."""
    for i, form in enumerate(dict.fromkeys(forms)):
        make.article(section, {locale: f"Artikel {i}"}, body=f"Om {form} här.")
    expected = sorted(f"Artikel {i}" for i in range(len(dict.fromkeys(forms))))
    for form in forms:
        assert sorted(found(locale, form)) == expected, form


@pytest.mark.parametrize(
    "locale, body, query, stray",
    [
        (
            "ja",
            "バーコードを読み取るか、QR コードを表示します。パスワードを忘れた場合は"
            "認証コードを入力してください。",
            "パスワード",
            ["ード", "コード"],
        ),
        (
            "ko",
            "휴대폰 번호로 받은 인증번호를 넣은 뒤 새 비밀번호를 입력하세요.",
            "비밀번호",
            ["번호"],
        ),
    ],
)
def test_cjk_highlight_does_not_mark_bigrams_shared_with_other_words(
    search, make, section, locale, body, query, stray
):
    """Issue 15 item 7: パスワード marked バーコ<mark>ード</mark>, 認証コ<mark>ード</mark> and
    QR コ<mark>ード</mark>, and 비밀번호 marked <mark>번호</mark> in 휴대폰 번호 and 인증번호: a
    bigram the query shares with another word is not a match; only the whole query word is."""
    make.article(section, {locale: "Title"}, body=body)
    snippet = search(locale, query).hits[0].snippet
    assert f"<mark>{query}</mark>" in snippet
    assert snippet.count("<mark>") == 1, snippet
    for part in stray:
        assert f"<mark>{part}</mark>" not in snippet


def test_cjk_highlight_marks_a_query_word_inside_a_longer_run(search, make, section):
    """Issue 15 item 7: a CJK query word written inside a longer run (with its particle, or in a
    compound) is still marked whole, while a run holding only part of it is not."""
    body = "결제수단을 바꾸려면 결제 화면에서 새결제수단등록을 누르세요."
    make.article(section, {"ko": "Title"}, body=body)
    snippet = search("ko", "결제수단").hits[0].snippet
    assert snippet.count("<mark>결제수단</mark>") == 2, snippet
    assert "<mark>결제</mark>" not in snippet


@pytest.mark.parametrize(
    "query, marked",
    [("결제수단이", "결제수단"), ("비밀번호가", "비밀번호")],
)
def test_cjk_highlight_marks_a_word_found_with_another_particle(
    search, make, section, query, marked
):
    """Issue 15 item 7: a word typed with a particle the article does not use (결제수단이 for
    결제수단을) is found by the relaxed pass; its stem is marked whole, still not the bigrams it
    shares with other words (번호 in 인증번호)."""
    body = "인증번호를 받은 뒤 결제수단을 고르고 비밀번호를 입력하세요."
    make.article(section, {"ko": "Title"}, body=body)
    snippet = search("ko", query).hits[0].snippet
    assert snippet.count("<mark>") == 1, snippet
    assert f"<mark>{marked}</mark>" in snippet
