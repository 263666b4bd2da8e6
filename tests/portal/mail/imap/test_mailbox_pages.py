"""/admin/mailboxes: admins add, change, check and delete the IMAP mailboxes; the password is
never shown back; nobody else gets in."""

import pytest
from sqlalchemy import select

from portal.mail.models import InboundMail, MailAddress, Mailbox
from portal.security import sealing
from tests.portal.mail.imap.conftest import message


def form_data(brand, dovecot, **changes) -> dict:
    data = {
        "brand_id": str(brand.id),
        "address_id": "0",
        "host": "127.0.0.1",
        "port": str(dovecot.port),
        "security": "none",
        "username": dovecot.username,
        "password": dovecot.password,
        "folder": "INBOX",
        "move_to": "",
        "enabled": "y",
    }
    data.update(changes)
    return data


@pytest.mark.parametrize("role", ["editor", "agent", "customer"])
def test_mailbox_pages_are_403_for_everyone_but_admins(client, login, add_mailbox, role):
    mailbox = add_mailbox()
    login(role)
    for path in ("/admin/mailboxes", "/admin/mailboxes/new", f"/admin/mailboxes/{mailbox.id}"):
        assert client.get(path).status_code == 403, path
    for path in (f"/admin/mailboxes/{mailbox.id}/check", f"/admin/mailboxes/{mailbox.id}/delete"):
        assert client.post(path).status_code == 403, path


def test_admin_sees_each_brands_mailboxes_with_their_last_check_and_error(
    client, ctx, login, make, add_mailbox, frozen_now
):
    mailbox = add_mailbox(
        username="help@hanbit.test",
        password="Never-0n-the-page",
        checked_at=frozen_now,
        last_error="The server refused the login of “help@hanbit.test” (user name or password).",
    )
    for uid in (1, 2):
        ctx.add(
            InboundMail(
                source="imap", mailbox_id=mailbox.id, uidvalidity=1, uid=uid, raw=b"x", size=1,
                sha256="0" * 64,
            )
        )  # fmt: skip
    ctx.commit()
    make.brand(name="Quiet brand")
    login("admin")

    page = client.get("/admin/mailboxes").get_data(as_text=True)

    row = page[page.index(f'id="mailbox-{mailbox.id}"') :].split("</tr>")[0]
    assert "help@hanbit.test" in row and f"127.0.0.1:{mailbox.port}" in row
    assert "refused the login of “help@hanbit.test”" in row
    assert f'<time datetime="{frozen_now.isoformat()}">' in row
    assert "<td>2</td>" in row  # messages taken
    assert "Quiet brand" in page and "No mailboxes yet." in page
    assert "Never-0n-the-page" not in page


def test_a_new_mailbox_with_mistakes_shows_them_and_keeps_what_was_typed(
    client, ctx, login, make, dovecot
):
    brand = make.brand()
    login("admin")
    data = form_data(
        brand, dovecot, host="imap.example.com/x", port="99999", password="", folder="",
        username="typed@example.test",
    )  # fmt: skip

    response = client.post("/admin/mailboxes/new", data=data)

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Type the server&#39;s name only, like imap.example.com." in page
    assert "Number must be between 1 and 65535." in page
    assert "Type the mailbox&#39;s password." in page
    assert 'value="typed@example.test"' in page and 'value="imap.example.com/x"' in page
    assert ctx.scalars(select(Mailbox)).all() == []


def test_an_address_of_another_brand_is_refused(client, ctx, login, make, dovecot):
    brand, other = make.brand(), make.brand()
    address = MailAddress(address="help@other.test", brand_id=other.id)
    ctx.add(address)
    ctx.commit()
    login("admin")

    data = form_data(brand, dovecot, address_id=str(address.id), password="typed-Secret")
    response = client.post("/admin/mailboxes/new", data=data)

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Choose an address of the chosen brand." in page
    assert "typed-Secret" not in page  # a password is never sent back, even to its typist


def test_admin_adds_a_mailbox(app, client, ctx, login, make, dovecot):
    brand = make.brand()
    login("admin")

    response = client.post("/admin/mailboxes/new", data=form_data(brand, dovecot))

    mailbox = ctx.scalars(select(Mailbox)).one()
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/mailboxes#mailbox-{mailbox.id}"
    assert (mailbox.brand_id, mailbox.host, mailbox.port) == (brand.id, "127.0.0.1", dovecot.port)
    # The password is sealed at rest, with a key from SECRET_KEY (and fetches with it: below).
    assert mailbox.username == dovecot.username and dovecot.password not in mailbox.password
    assert sealing.unseal(mailbox.password, app.config["SECRET_KEY"]) == dovecot.password
    assert (mailbox.security, mailbox.folder, mailbox.move_to, mailbox.enabled) == (
        "none", "INBOX", None, True,
    )  # fmt: skip


def test_editing_with_an_empty_password_keeps_the_saved_one(client, ctx, login, add_mailbox):
    mailbox = add_mailbox(password="Saved-pa55word")
    login("admin")
    page = client.get(f"/admin/mailboxes/{mailbox.id}").get_data(as_text=True)
    assert "Saved-pa55word" not in page
    assert "Leave empty to keep the saved password." in page

    data = {
        "brand_id": str(mailbox.brand_id), "address_id": "0", "host": "127.0.0.1",
        "port": str(mailbox.port), "security": "none", "username": mailbox.username,
        "password": "", "folder": "INBOX", "move_to": "Taken",
    }  # fmt: skip
    response = client.post(f"/admin/mailboxes/{mailbox.id}", data=data)

    assert response.status_code == 303
    ctx.expire_all()
    saved = ctx.get(Mailbox, mailbox.id)
    assert saved.password == "Saved-pa55word"
    assert (saved.move_to, saved.enabled) == ("Taken", False)  # an unchecked box is "no"


def test_check_now_fetches_the_mailbox_and_says_what_came(client, ctx, login, dovecot, add_mailbox):
    dovecot.append(message("Checked by hand", "<by-hand@example.test>"))
    mailbox = add_mailbox()
    login("admin")

    response = client.post(f"/admin/mailboxes/{mailbox.id}/check")

    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/mailboxes#mailbox-{mailbox.id}"
    page = client.get("/admin/mailboxes").get_data(as_text=True)
    assert "Checked: 1 new, 0 taken before, 0 too large." in page
    assert [r.mailbox_id for r in ctx.scalars(select(InboundMail))] == [mailbox.id]


def test_check_now_shows_the_error_without_the_password(client, login, dovecot, add_mailbox):
    mailbox = add_mailbox(password="Wr0ng-pa55word")
    login("admin")

    client.post(f"/admin/mailboxes/{mailbox.id}/check")

    page = client.get("/admin/mailboxes").get_data(as_text=True)
    assert (
        "The check failed: The server refused the login of “support@imap.test” "
        "(user name or password)."
    ) in page
    assert "Wr0ng-pa55word" not in page


def test_deleting_a_mailbox_keeps_the_messages_it_took(client, ctx, login, dovecot, add_mailbox):
    dovecot.append(message("Kept", "<kept@example.test>"))
    mailbox_id = add_mailbox().id
    login("admin")
    client.post(f"/admin/mailboxes/{mailbox_id}/check")
    assert "Delete the mailbox" in client.get(f"/admin/mailboxes/{mailbox_id}/delete").text

    response = client.post(f"/admin/mailboxes/{mailbox_id}/delete")

    assert response.status_code == 303
    ctx.expire_all()
    assert ctx.get(Mailbox, mailbox_id) is None
    assert [r.mailbox_id for r in ctx.scalars(select(InboundMail))] == [None]
    assert client.get(f"/admin/mailboxes/{mailbox_id}").status_code == 404
