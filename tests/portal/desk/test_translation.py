"""Translation on the desk (portal.desk.translation): the organization's settings with a sealed
key, the language of customers' messages detected offline as they arrive, a message translated
once and kept, and a reply sent translated with the agent's text kept beside it. The provider
is a local server speaking LibreTranslate's API (tests/translation_servers.py)."""

import pytest
from sqlalchemy import select

from kb import clock
from portal.desk import languages, replies, translation
from portal.desk.automation.models import MessageTranslation, TranslationSettings
from portal.desk.models import OutboxMail, TicketMessage
from portal.desk.translators import LibreTranslate
from portal.security import sealing
from portal.security.models import AuditEntry
from tests.translation_servers import LibreTranslateHandler, closed_port_url, serve

SECRET = "test-secret"
KOREAN = "카드가 결제되지 않아요. 도와주세요."


@pytest.fixture
def libre():
    with serve(LibreTranslateHandler, api_key="lt-key") as server:
        yield server


@pytest.fixture
def app_ctx(app):
    """Mail is composed with the app's settings."""
    with app.app_context():
        yield


@pytest.fixture
def brand(make):
    return make.brand(slug="acme", locales=("en",), name="Acme")


@pytest.fixture
def requester(make):
    return make.user(role="customer", email="minji@example.com", name="Minji")


@pytest.fixture
def ticket(make, brand, requester):
    return make.ticket(brand, requester)


@pytest.fixture
def agent(make, brand):
    return make.user(role="agent", brands=[brand])


def customer_says(ctx, requester, ticket, body):
    done = replies.reply(
        ctx, replies.Requester(requester), ticket, body, public=True, now=clock.now()
    )
    ctx.flush()
    return done.message


@pytest.mark.parametrize(
    ("text", "language"),
    [
        (KOREAN, "ko"),
        ("注文した商品がまだ届いていません。", "ja"),
        ("Hej, jag har inte fått min beställning än.", "sv"),
        ("Hello, my order has not arrived yet.", "en"),
        ("ok", None),
        ("", None),
        ("Thanks!", None),
    ],
)
def test_languages_are_detected_offline_and_short_texts_stay_undetected(text, language):
    assert languages.detect_language(text) == language


def test_a_customers_reply_gets_its_language_an_agents_does_not(
    app_ctx, ctx, requester, ticket, agent
):
    message = customer_says(ctx, requester, ticket, KOREAN)
    assert message.language == "ko"
    sent = replies.reply(ctx, agent, ticket, "We are on it.", public=True, now=clock.now())
    assert sent.message.language is None


def test_settings_validate_and_seal_the_key(ctx, make):
    admin = make.user(role="admin")
    now = clock.now()
    for fields, problem in [
        ({"provider": "babelfish"}, ("provider", "invalid")),
        ({"provider": "libretranslate", "url": ""}, ("url", "required")),
        ({"provider": "libretranslate", "url": "translate.internal"}, ("url", "invalid")),
        ({"provider": "deepl", "api_key": ""}, ("api_key", "required")),
        ({"provider": "deepl", "api_key": "k" * 501}, ("api_key", "too_long")),
    ]:
        values = {"url": "", "api_key": "", "deepl_free": False, **fields}
        with pytest.raises(translation.SettingsError) as refused:
            translation.save_settings(ctx, admin, secret_key=SECRET, now=now, **values)
        assert (refused.value.field, refused.value.code) == problem
    translation.save_settings(
        ctx,
        admin,
        provider="libretranslate",
        url="http://translate.internal:5000",
        api_key="lt-key",
        deepl_free=False,
        secret_key=SECRET,
        now=now,
    )
    row = ctx.get(TranslationSettings, 1)
    assert row.api_key != "lt-key" and sealing.is_sealed(row.api_key)
    assert sealing.unseal(row.api_key, SECRET) == "lt-key"
    # A blank key keeps the stored one.
    translation.save_settings(
        ctx,
        admin,
        provider="deepl",
        url="",
        api_key="",
        deepl_free=True,
        secret_key=SECRET,
        now=now,
    )
    assert sealing.unseal(ctx.get(TranslationSettings, 1).api_key, SECRET) == "lt-key"
    audits = ctx.scalars(
        select(AuditEntry).where(AuditEntry.action == "automation.translation_changed")
    ).all()
    assert len(audits) == 2 and "lt-key" not in str([a.details for a in audits])
    provider = translation.provider_of(ctx, SECRET)
    assert provider.name == "deepl" and provider.base_url == "https://api-free.deepl.com"
    assert translation.provider_of(ctx, "another-secret") is None  # the key cannot be opened


def test_no_settings_no_provider(ctx):
    assert translation.provider_of(ctx, SECRET) is None
    assert translation.settings_of(ctx).provider == "none"


def test_a_message_is_translated_once_and_kept(ctx, libre, requester, ticket, agent, make, brand):
    message = customer_says(ctx, requester, ticket, KOREAN)
    provider = LibreTranslate(libre.url, "lt-key")
    row = translation.translate_message(ctx, agent, message, "en", provider, clock.now())
    assert row.text == "My card does not go through. Please help."
    assert libre.calls[-1]["source"] == "ko"  # the detected language, not "auto"
    colleague = make.user(role="light_agent", brands=[brand])
    again = translation.translate_message(ctx, colleague, message, "en", None, clock.now())
    assert again.id == row.id and len(libre.calls) == 1
    shown = translation.translations_of(ctx, ticket)
    assert shown[message.id].translations["en"].text == row.text


def test_only_agents_of_the_brand_translate_and_only_customers_messages(
    ctx, libre, requester, ticket, agent, make
):
    message = customer_says(ctx, requester, ticket, KOREAN)
    provider = LibreTranslate(libre.url, "lt-key")
    outsider = make.user(role="agent", brands=[make.brand(slug="other")])
    with pytest.raises(translation.TranslationError) as refused:
        translation.translate_message(ctx, outsider, message, "en", provider, clock.now())
    assert refused.value.code == "not_allowed"
    note = replies.reply(ctx, agent, ticket, "internal", public=False, now=clock.now()).message
    with pytest.raises(translation.TranslationError) as refused:
        translation.translate_message(ctx, agent, note, "en", provider, clock.now())
    assert refused.value.code == "not_translatable"
    assert libre.calls == []


def test_a_provider_down_is_a_named_failure_and_nothing_is_kept(ctx, requester, ticket, agent):
    message = customer_says(ctx, requester, ticket, KOREAN)
    down = LibreTranslate(closed_port_url(), "k")
    with pytest.raises(translation.TranslationError) as refused:
        translation.translate_message(ctx, agent, message, "en", down, clock.now())
    assert refused.value.code == "unreachable"
    assert ctx.scalars(select(MessageTranslation)).all() == []


def test_a_translated_reply_mails_the_translation_and_keeps_the_original(
    app_ctx, ctx, libre, requester, ticket, agent
):
    customer_says(ctx, requester, ticket, KOREAN)
    assert translation.requester_language(ctx, ticket) == "ko"
    done = translation.translated_reply(
        ctx,
        agent,
        ticket,
        "Your card works again.",
        source="en",
        target="ko",
        provider=LibreTranslate(libre.url, "lt-key"),
        now=clock.now(),
    )
    assert done.message.body == "카드가 다시 작동합니다." and done.message.public
    original = ctx.scalars(select(MessageTranslation).where(MessageTranslation.original)).one()
    assert (original.ticket_message_id, original.language) == (done.message.id, "en")
    assert original.text == "Your card works again."
    mail = ctx.scalars(select(OutboxMail)).one()
    assert "카드가 다시 작동합니다." in mail.text_body
    assert "Your card works again." not in mail.text_body + mail.html_body


def test_a_light_agent_cannot_send_a_translated_reply(ctx, libre, ticket, make, brand):
    light = make.user(role="light_agent", brands=[brand])
    with pytest.raises(translation.TranslationError) as refused:
        translation.translated_reply(
            ctx,
            light,
            ticket,
            "Hi",
            source="en",
            target="ko",
            provider=LibreTranslate(libre.url, "lt-key"),
            now=clock.now(),
        )
    assert refused.value.code == "not_allowed"
    assert libre.calls == [] and ctx.scalars(select(TicketMessage)).all() == []


def test_a_ticket_made_on_the_web_form_gets_its_language(ctx, requester, ticket):
    # The first message of a follow-up (a reply to a closed request) opens a new ticket.
    ticket.status = "closed"
    done = replies.reply(
        ctx,
        replies.Requester(requester),
        ticket,
        "Hej, jag har inte fått min beställning än.",
        public=True,
        now=clock.now(),
        reopen_days=0,
    )
    assert done.follow_up and done.message.language == "sv"
