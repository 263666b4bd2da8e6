"""Translation on the agent's ticket page, through the page's own forms: a customer's Korean
message translated into the agent's language (with and without htmx) and kept for the next
look, a reply sent in the requester's language with the agent's text kept for agents only, a
provider that is down (the typed text kept), and no buttons at all without a provider. The
provider is a local server speaking LibreTranslate's API (tests/translation_servers.py)."""

import pytest
from sqlalchemy import select

from kb import clock
from portal.desk import replies, translation
from portal.desk.automation.models import MessageTranslation
from portal.desk.models import OutboxMail, TicketMessage
from portal.desk.tickets import link_token
from tests.translation_servers import LibreTranslateHandler, closed_port_url, serve

SECRET = "test-secret"
KOREAN = "카드가 결제되지 않아요. 도와주세요."
ENGLISH = "My card does not go through. Please help."


@pytest.fixture
def libre():
    with serve(LibreTranslateHandler, api_key="lt-key") as server:
        yield server


@pytest.fixture
def brand(make):
    return make.brand(slug="acme", locales=("en", "ko"), name="Acme")


@pytest.fixture
def requester(make):
    return make.user(role="customer", email="minji@example.com", name="Minji")


@pytest.fixture
def ticket(make, brand, requester):
    return make.ticket(brand, requester)


@pytest.fixture
def message(ctx, requester, ticket):
    done = replies.reply(
        ctx, replies.Requester(requester), ticket, KOREAN, public=True, now=clock.now()
    )
    ctx.commit()
    return done.message


def use_provider(ctx, make, url, api_key="lt-key"):
    translation.save_settings(
        ctx,
        make.user(role="admin"),
        provider="libretranslate",
        url=url,
        api_key=api_key,
        deepl_free=False,
        secret_key=SECRET,
        now=clock.now(),
    )
    ctx.commit()


def page(client, ticket) -> str:
    response = client.get(f"/agent/tickets/{ticket.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def translate(client, ticket, message, htmx=False):
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(
        f"/agent/tickets/{ticket.id}/messages/{message.id}/translate", headers=headers
    )


def test_without_a_provider_there_are_no_buttons_nor_checkbox(
    login, client, brand, ticket, message
):
    login("agent", brands=[brand])
    html = page(client, ticket)
    assert "Written in 한국어" in html  # the detected language is shown all the same
    assert "/translate" not in html and 'name="translate"' not in html
    assert translate(client, ticket, message).status_code == 422  # no provider: said, not a 500


def test_the_agent_translates_a_korean_message_and_sees_it_without_javascript(
    ctx, make, login, client, libre, brand, ticket, message
):
    use_provider(ctx, make, libre.url)
    login("agent", brands=[brand])
    html = page(client, ticket)
    assert "Translate to English" in html
    response = translate(client, ticket, message)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"#message-{message.id}")
    html = page(client, ticket)
    assert ENGLISH in html and "Translated into English" in html
    # A colleague sees it too; the provider is not asked again.
    client.post("/logout")
    login("agent", brands=[brand])
    assert ENGLISH in page(client, ticket)
    assert translate(client, ticket, message).status_code == 303
    assert len(libre.calls) == 1
    kept = ctx.scalars(select(MessageTranslation)).one()
    assert (kept.language, kept.provider, kept.original) == ("en", "libretranslate", False)


def test_with_htmx_only_the_translation_comes_back(
    ctx, make, login, client, libre, brand, ticket, message
):
    use_provider(ctx, make, libre.url)
    login("agent", brands=[brand])
    response = translate(client, ticket, message, htmx=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'id="translation-{message.id}"' in html and ENGLISH in html
    assert "<html" not in html and "Conversation" not in html


def test_a_provider_that_is_down_is_said_under_the_message(
    ctx, make, login, client, brand, ticket, message
):
    use_provider(ctx, make, closed_port_url())
    login("agent", brands=[brand])
    for htmx in (False, True):
        response = translate(client, ticket, message, htmx=htmx)
        assert response.status_code == 422
        assert "The translation service cannot be reached" in response.get_data(as_text=True)
    assert ctx.scalars(select(MessageTranslation)).all() == []


def test_a_bad_key_is_said(ctx, make, login, client, libre, brand, ticket, message):
    use_provider(ctx, make, libre.url, api_key="wrong")
    login("agent", brands=[brand])
    response = translate(client, ticket, message, htmx=True)
    assert "refused the API key" in response.get_data(as_text=True)


def send(client, ticket, body, **extra):
    data = {"body": body, "kind": "public", "status": "pending", "delay": "0", "translate": "1"}
    return client.post(
        f"/agent/tickets/{ticket.id}/reply",
        data={**data, **extra},
        content_type="multipart/form-data",
    )


def test_a_translated_reply_reaches_the_requester_translated_and_keeps_both_texts(
    ctx, make, login, client, libre, brand, ticket, message
):
    use_provider(ctx, make, libre.url)
    login("agent", brands=[brand])
    assert "Translate into 한국어 before sending" in page(client, ticket)
    assert send(client, ticket, "Your card works again.").status_code == 303
    ctx.expire_all()
    sent = ctx.scalars(select(TicketMessage).where(TicketMessage.from_requester.is_(False))).one()
    assert sent.body == "카드가 다시 작동합니다." and sent.public
    mail = ctx.scalars(select(OutboxMail)).one()
    assert mail.recipient == "minji@example.com"
    assert "카드가 다시 작동합니다." in mail.text_body
    assert "Your card works again." not in mail.text_body + mail.html_body
    html = page(client, ticket)
    assert "카드가 다시 작동합니다." in html and "Your card works again." in html
    assert "Original (en)" in html


def test_the_requester_never_sees_the_original(
    ctx, make, login, client, libre, brand, ticket, message
):
    use_provider(ctx, make, libre.url)
    login("agent", brands=[brand])
    assert send(client, ticket, "Your card works again.").status_code == 303
    client.post("/logout")
    token = link_token(SECRET, ticket)
    response = client.get(f"/acme/en/requests/{ticket.id}?token={token}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "카드가 다시 작동합니다." in html and "Your card works again." not in html


def test_a_failed_translation_keeps_the_typed_reply_and_sends_nothing(
    ctx, make, login, client, brand, ticket, message
):
    use_provider(ctx, make, closed_port_url())
    login("agent", brands=[brand])
    for headers in ({}, {"HX-Request": "true"}):
        response = client.post(
            f"/agent/tickets/{ticket.id}/reply",
            data={"body": "Your card works again.", "kind": "public", "translate": "1"},
            content_type="multipart/form-data",
            headers=headers,
        )
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert "Your card works again." in html and "cannot be reached" in html
        assert 'name="translate" value="1" checked' in html
    assert ctx.scalars(select(OutboxMail)).all() == []
    assert len(ctx.scalars(select(TicketMessage)).all()) == 1


def test_a_translated_reply_is_not_scheduled(
    ctx, make, login, client, libre, brand, ticket, message
):
    use_provider(ctx, make, libre.url)
    login("agent", brands=[brand])
    response = send(client, ticket, "Your card works again.", delay="600")
    assert response.status_code == 422
    assert "A translated reply is sent now" in response.get_data(as_text=True)
    assert libre.calls == []


def test_a_light_agent_translates_but_has_no_reply_checkbox(
    ctx, make, login, client, libre, brand, ticket, message
):
    use_provider(ctx, make, libre.url)
    login("light_agent", brands=[brand])
    html = page(client, ticket)
    assert "Translate to English" in html and 'name="translate"' not in html
    assert translate(client, ticket, message).status_code == 303
    response = send(client, ticket, "Sneaky public reply")
    assert response.status_code == 422
    assert ctx.scalars(select(OutboxMail)).all() == []


def test_an_agent_of_another_brand_cannot_translate(
    ctx, make, login, client, libre, ticket, message
):
    use_provider(ctx, make, libre.url)
    login("agent", brands=[make.brand(slug="other")])
    assert translate(client, ticket, message).status_code == 404
    assert libre.calls == []
