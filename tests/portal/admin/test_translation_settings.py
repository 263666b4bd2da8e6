"""/admin/automation/translation: the organization's translation provider, for holders of
"automation" on every brand; the address checked, the key sealed and never shown back ("leave
blank to keep"), the change audited, and a Test translating "Hello" into Korean against a
local LibreTranslate-compatible server."""

import pytest
from sqlalchemy import select

from portal.desk.automation.models import TranslationSettings
from portal.security import sealing
from portal.security.models import AuditEntry
from tests.translation_servers import LibreTranslateHandler, closed_port_url, serve

URL = "/admin/automation/translation"


@pytest.fixture
def libre():
    with serve(LibreTranslateHandler, api_key="lt-key") as server:
        yield server


def save(client, **fields):
    data = {"provider": "libretranslate", "url": "", "api_key": "", **fields}
    return client.post(URL, data=data)


def test_only_admins_of_every_brand_reach_it(login, client, make):
    brand = make.brand(slug="acme")
    login("editor", brands=[brand])
    assert client.get(URL).status_code == 403
    client.post("/logout")
    login("agent", brands=[brand])
    assert client.get(URL).status_code == 403


def test_the_link_is_in_the_back_office_for_admins(login, client):
    login("admin")
    assert URL in client.get("/admin/kb/").get_data(as_text=True)


def test_settings_are_checked_and_what_was_typed_is_kept(login, client, ctx):
    login("admin")
    response = save(client, url="")
    assert response.status_code == 422
    assert "Give the address of the LibreTranslate server." in response.get_data(as_text=True)
    response = save(client, url="translate.internal:5000")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "starting with http:// or https://" in html and "translate.internal:5000" in html
    response = save(client, provider="deepl")
    assert "Give the DeepL authentication key." in response.get_data(as_text=True)
    response = save(client, provider="babelfish", url="http://x.example")
    assert "Choose one of the providers." in response.get_data(as_text=True)
    assert ctx.scalars(select(TranslationSettings)).all() == []


def test_the_key_is_sealed_never_shown_and_kept_when_left_blank(login, client, ctx):
    login("admin")
    response = save(client, url="http://translate.internal:5000", api_key="ZqSecretKey")
    assert response.status_code == 303
    row = ctx.scalars(select(TranslationSettings)).one()
    assert sealing.is_sealed(row.api_key) and "ZqSecretKey" not in row.api_key
    html = client.get(URL).get_data(as_text=True)
    assert "ZqSecretKey" not in html and row.api_key not in html
    assert "A key is saved. Leave blank to keep it." in html
    assert "http://translate.internal:5000" in html
    assert save(client, url="http://translate.internal:5001").status_code == 303
    ctx.expire_all()
    row = ctx.scalars(select(TranslationSettings)).one()
    assert sealing.unseal(row.api_key, "test-secret") == "ZqSecretKey"
    assert row.url == "http://translate.internal:5001"
    entries = ctx.scalars(
        select(AuditEntry).where(AuditEntry.action == "automation.translation_changed")
    ).all()
    assert len(entries) == 2 and "ZqSecretKey" not in str([e.details for e in entries])


def test_the_test_button_translates_hello_into_korean(login, client, libre):
    login("admin")
    assert save(client, url=libre.url, api_key="lt-key").status_code == 303
    response = client.post(URL + "/test")
    assert response.status_code == 200
    assert "The service answered: 안녕하세요" in response.get_data(as_text=True)
    assert libre.calls[-1]["q"] == ["Hello"] and libre.calls[-1]["target"] == "ko"


@pytest.mark.parametrize(
    ("key", "said"),
    [("wrong", "refused the API key"), ("lt-key", "cannot be reached")],
)
def test_the_test_button_says_what_went_wrong(login, client, libre, key, said):
    login("admin")
    url = libre.url if key == "wrong" else closed_port_url()
    assert save(client, url=url, api_key=key).status_code == 303
    response = client.post(URL + "/test")
    assert response.status_code == 422 and said in response.get_data(as_text=True)


def test_with_nothing_set_up_the_test_says_so(login, client):
    login("admin")
    response = client.post(URL + "/test")
    assert "No translation service is set up." in response.get_data(as_text=True)
