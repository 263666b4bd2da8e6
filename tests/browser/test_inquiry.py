"""A visitor sends an inquiry form in Chromium, with and without JavaScript: a question opened by
an answer, a file, a refused file, a double click, and articles suggested under the subject."""

import contextlib
import fcntl
import re
import time
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import APIResponse, Page, Request, Response, Route, expect
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from kb.models import Article, Brand, Section, SectionTranslation
from kb.search import WhooshIndex
from kb.search import documents as search_documents
from portal.config import defaults
from portal.desk.models import FormField, InquiryForm, Ticket, TicketFile
from portal.search import index_folder
from tests.browser.conftest import ARTIFACTS, TIMEOUT_MS
from tests.factories import Factory

BRAND = "hanbit-pay"
LOCALE = "en"
# Hanbit Pay's "Fees & limits" section (portal/demo/hanbit-pay.toml): no other browser test
# walks through it or counts its articles (test_authoring adds to it as well).
SECTION_TITLE = "Fees & limits"
# The server refuses a form sent sooner than this after it was shown (a bot); people are slower.
MIN_SECONDS = defaults("")["INQUIRY_MIN_SECONDS"]
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
LAST4 = "4242"
RECEIVED = "We received your request"
REFUSED = "This kind of file is not accepted."


# ---------------------------------------------------------------- the live server's database


@pytest.fixture(scope="module")
def instance_dir(live_server, tmp_path_factory) -> Path:
    """The live server's instance folder (conftest makes it with mktemp("browser-instance"))."""
    found = sorted(tmp_path_factory.getbasetemp().glob("browser-instance[0-9]*"))
    assert len(found) == 1, f"expected one live-server instance folder, found {found}"
    return found[0]


@pytest.fixture(scope="module")
def engine(instance_dir):
    """An engine of the test's own on the live server's SQLite file (WAL, so reads never wait)."""
    engine = create_engine(f"sqlite:///{instance_dir / 'portal.db'}", connect_args={"timeout": 10})
    yield engine
    engine.dispose()


def hanbit_pay_id(session: Session) -> int:
    return session.scalar(select(Brand.id).where(Brand.slug == BRAND))


def make_form(engine) -> int:
    """A payment form, as tests/portal/requests/test_intake.py makes it: a required dropdown,
    a required "last four digits" asked only for cards, and a file field. Not listed, so the
    forms page of the demo brand stays as it was."""
    with Session(engine) as session:
        form = InquiryForm(
            brand_id=hanbit_pay_id(session),
            listed=False,
            names={"en": "Payment question (browser test)"},
            descriptions={"en": "Anything about paying."},
        )
        form.fields = [
            FormField(
                key="method",
                type="dropdown",
                position=1,
                required=True,
                labels={"en": "Payment method"},
                options=[
                    {"value": "card", "labels": {"en": "Card"}},
                    {"value": "transfer", "labels": {"en": "Bank transfer"}},
                ],
            ),
            FormField(
                key="last4",
                type="text",
                position=2,
                required=True,
                labels={"en": "Last four digits"},
                pattern="[0-9]{4}",
                condition_key="method",
                condition_value="card",
            ),
            FormField(key="screenshot", type="file", position=3, labels={"en": "Screenshot"}),
        ]
        session.add(form)
        session.commit()
        return form.id


def tickets_with(engine, form_id: int, subject: str) -> list[Ticket]:
    """The tickets of this form with this subject, read in a fresh transaction (WAL snapshot)."""
    with Session(engine, expire_on_commit=False) as session:
        return list(
            session.scalars(
                select(Ticket).where(Ticket.form_id == form_id, Ticket.subject == subject)
            )
        )


def files_of(engine, ticket_id: int) -> list[TicketFile]:
    with Session(engine) as session:
        return list(session.scalars(select(TicketFile).where(TicketFile.ticket_id == ticket_id)))


# ---------------------------------------------------------------- what a visitor does


class Visitor:
    def __init__(self, mode: str):
        tag = uuid.uuid4().hex[:8]
        self.name = "Mina Park"
        # One address per test: the per-address limit (5 in 10 minutes) is not what is tested.
        self.email = f"mina.{mode}.{tag}@example.com"
        self.subject = f"Charged twice for order {tag}"
        self.description = f"My card was charged twice for order {tag}.\nPlease refund one."


def form_url(base_url: str, form_id: int) -> str:
    return f"{base_url}/{BRAND}/{LOCALE}/requests/new?form={form_id}"


def follow(page: Page, act) -> Response:
    """Do `act` and return the first answer to the page load it starts (before redirects)."""
    with page.expect_response(lambda r: r.request.is_navigation_request()) as answer:
        act()
    return answer.value


def open_form(page: Page, base_url: str, form_id: int) -> float:
    """Shows the form; returns when (time.monotonic) it was shown."""
    response = page.goto(form_url(base_url, form_id))
    assert response is not None and response.status == 200
    expect(page.get_by_role("heading", level=1)).to_have_text("Payment question (browser test)")
    return time.monotonic()


def fill_about(page: Page, visitor: Visitor) -> None:
    page.get_by_label("Your name").fill(visitor.name)
    page.get_by_label("Your email").fill(visitor.email)
    page.get_by_role("textbox", name="Subject", exact=True).fill(visitor.subject)
    page.get_by_label("Description").fill(visitor.description)


def expect_typed_kept(page: Page, visitor: Visitor) -> None:
    expect(page.get_by_label("Your name")).to_have_value(visitor.name)
    expect(page.get_by_label("Your email")).to_have_value(visitor.email)
    expect(page.get_by_role("textbox", name="Subject", exact=True)).to_have_value(visitor.subject)
    expect(page.get_by_label("Description")).to_have_value(visitor.description)


def last4_box(page: Page):
    return page.get_by_label("Last four digits")


def choose_method(page: Page, javascript: bool, label: str) -> None:
    """Picks a payment method the way a visitor can: htmx updates the questions in place; without
    JavaScript the visitor presses "Update the questions" (shown inside <noscript>)."""
    update = page.get_by_role("button", name="Update the questions")
    method = page.get_by_label("Payment method")
    if javascript:
        expect(update).to_have_count(0)
        page.evaluate("window.__sameDocument = true")
        with page.expect_response(
            lambda r: r.request.method == "POST" and "/requests/new" in r.url
        ) as answer:
            method.select_option(label=label)
        assert answer.value.status == 200
        assert answer.value.request.headers.get("hx-request") == "true"
        expect(page.locator("#questions")).to_be_visible()
        if label == "Card":
            expect(last4_box(page)).to_be_visible()
        # The questions changed without a page load: this document is still the one shown.
        assert page.evaluate("window.__sameDocument") is True
    else:
        method.select_option(label=label)
        response = follow(page, update.click)
        assert response.status == 200, f"{response.url} answered {response.status}"
        expect(page).to_have_url(re.compile(r"/requests/new\?form=\d+$"))
    expect(page.get_by_label("Payment method")).to_have_value(
        {"Card": "card", "Bank transfer": "transfer"}[label]
    )
    if label == "Card":
        expect(last4_box(page)).to_be_visible()
        expect(last4_box(page)).to_have_value("")
    else:
        expect(last4_box(page)).to_have_count(0)


def wait_like_a_person(page: Page, shown_at: float) -> None:
    """Nobody sends a form within INQUIRY_MIN_SECONDS of seeing it; the server refuses bots that
    do. A test types faster than people, so it waits out the rest of those seconds."""
    left = MIN_SECONDS + 0.3 - (time.monotonic() - shown_at)
    if left > 0:
        page.wait_for_timeout(left * 1000)


def send_button(page: Page):
    return page.get_by_role("button", name="Send request")


def expect_request_page(page: Page, base_url: str, visitor: Visitor) -> None:
    expect(page).to_have_url(
        re.compile(rf"^{re.escape(base_url)}/{BRAND}/{LOCALE}/requests/\d+\?token=[^&]+$")
    )
    expect(page.get_by_role("status")).to_contain_text(RECEIVED)
    expect(page.get_by_role("heading", level=1)).to_have_text(visitor.subject)
    expect(page.locator(".conversation .message-body").first).to_have_text(visitor.description)


def answers_shown(page: Page) -> dict[str, str]:
    terms = page.locator("dl.answers > dt").all_inner_texts()
    values = page.locator("dl.answers > dd").all_inner_texts()
    return dict(zip(terms, values, strict=True))


def write_file(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------- sending


def test_visitor_answers_the_question_a_choice_opens_and_attaches_a_file(
    live_server, open_page, javascript, screenshot, engine, tmp_path
):
    form_id = make_form(engine)
    visitor = Visitor("js" if javascript else "nojs")
    png = write_file(tmp_path, "screen.png", PNG)
    page = open_page()
    shown_at = open_form(page, live_server, form_id)
    expect(last4_box(page)).to_have_count(0)
    fill_about(page, visitor)

    choose_method(page, javascript, "Card")

    expect_typed_kept(page, visitor)
    last4_box(page).fill(LAST4)
    page.get_by_label("Screenshot").set_input_files(png)
    screenshot(page, "1-filled")
    wait_like_a_person(page, shown_at)
    sent = follow(page, send_button(page).click)

    assert sent.status == 303, f"{sent.url} answered {sent.status}"
    expect_request_page(page, live_server, visitor)
    assert answers_shown(page) == {"Payment method": "Card", "Last four digits": LAST4}
    link = page.get_by_role("list").filter(has_text="screen.png").get_by_role("link")
    expect(link).to_have_text("screen.png")
    expect(link).to_have_attribute("href", re.compile(r"/files/\d+/screen\.png\?token="))
    screenshot(page, "2-request")
    download = page.request.get(live_server + link.get_attribute("href"))
    assert download.status == 200 and download.body() == PNG
    assert download.headers["content-type"] == "image/png"

    [ticket] = tickets_with(engine, form_id, visitor.subject)
    assert ticket.requester_email == visitor.email and ticket.channel == "web"
    assert {a["key"]: a["display"] for a in ticket.answers if a["display"]} == {
        "method": "Card",
        "last4": LAST4,
    }
    [stored] = files_of(engine, ticket.id)
    assert (stored.filename, stored.field_key, stored.size) == (
        "screen.png",
        "screenshot",
        len(PNG),
    )


def test_a_refused_file_keeps_every_answer_and_the_form_sends_after(
    live_server, open_page, javascript, screenshot, engine, tmp_path
):
    form_id = make_form(engine)
    visitor = Visitor("js" if javascript else "nojs")
    svg = write_file(tmp_path, "diagram.svg", SVG)
    png = write_file(tmp_path, "screen.png", PNG)
    page = open_page()
    shown_at = open_form(page, live_server, form_id)
    fill_about(page, visitor)
    choose_method(page, javascript, "Card")
    last4_box(page).fill(LAST4)
    page.get_by_label("Screenshot").set_input_files(svg)
    wait_like_a_person(page, shown_at)

    refused = follow(page, send_button(page).click)

    assert refused.status == 422, f"{refused.url} answered {refused.status}"
    expect(page).to_have_url(re.compile(r"/requests/new\?form=\d+$"))
    file_box = page.get_by_label("Screenshot")
    field = page.locator(".field").filter(has=file_box)
    expect(field.locator(".error")).to_have_text(f"diagram.svg: {REFUSED}")
    expect(file_box).to_have_attribute("aria-invalid", "true")
    expect(file_box).to_have_accessible_description(re.compile(re.escape(REFUSED)))
    expect(page.locator(".error")).to_have_count(1)  # only the file is wrong
    expect_typed_kept(page, visitor)
    expect(page.get_by_label("Payment method")).to_have_value("card")
    expect(last4_box(page)).to_have_value(LAST4)
    expect(page.locator(".staged-file")).to_have_count(0)  # the refused file is not kept
    screenshot(page, "1-refused")
    assert tickets_with(engine, form_id, visitor.subject) == []

    # The visitor picks a picture the form accepts instead and sends again.
    file_box.set_input_files(png)
    sent = follow(page, send_button(page).click)

    assert sent.status == 303, f"{sent.url} answered {sent.status}"
    expect_request_page(page, live_server, visitor)
    assert answers_shown(page) == {"Payment method": "Card", "Last four digits": LAST4}
    expect(page.get_by_role("link", name="screen.png")).to_be_visible()
    expect(page.get_by_role("link", name="diagram.svg")).to_have_count(0)
    screenshot(page, "2-request")
    [ticket] = tickets_with(engine, form_id, visitor.subject)
    assert [f.filename for f in files_of(engine, ticket.id)] == ["screen.png"]


def test_double_clicking_send_makes_one_request(
    live_server, open_page, javascript, screenshot, engine
):
    """Chromium folds a true double click into one send, so the test makes the case that matters:
    the first send reaches the server, its answer is slow, and the visitor clicks again."""
    form_id = make_form(engine)
    visitor = Visitor("js" if javascript else "nojs")
    page = open_page()
    shown_at = open_form(page, live_server, form_id)
    fill_about(page, visitor)
    choose_method(page, javascript, "Bank transfer")
    first: list[tuple[Route, APIResponse]] = []  # the first send, its answer held back
    later: list[str] = []  # sends after it, passed on as they are

    def slow_first_answer(route: Route, request: Request) -> None:
        if request.method == "POST" and not first:
            first.append((route, route.fetch(max_redirects=0)))  # the server has it now
            return
        if request.method == "POST":
            later.append(request.url)
        route.continue_()

    page.route(re.compile(r"/requests/new\?form=\d+$"), slow_first_answer)
    wait_like_a_person(page, shown_at)
    # The mouse, not Locator.click: that would wait for the first load to finish before the
    # second click, and the first load finishes only when the held answer is let through.
    send_button(page).scroll_into_view_if_needed()
    box = send_button(page).bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2

    page.mouse.click(x, y)
    for _ in range(TIMEOUT_MS // 50):
        if first:
            break
        page.wait_for_timeout(50)
    assert first, "the first click sent nothing"
    page.mouse.click(x, y)

    expect_request_page(page, live_server, visitor)
    route, answer = first[0]
    with contextlib.suppress(PlaywrightError):  # that load was given up for the second
        route.fulfill(response=answer)
    assert answer.status == 303, f"the first send answered {answer.status}"
    assert len(later) == 1, f"{len(later)} sends after the first"
    assert answers_shown(page) == {"Payment method": "Bank transfer"}
    screenshot(page, "request")
    tickets = tickets_with(engine, form_id, visitor.subject)
    assert len(tickets) == 1, f"two sends made {len(tickets)} tickets"
    assert page.url.split("?")[0].endswith(f"/requests/{tickets[0].id}")


# ---------------------------------------------------------------- suggested articles


def add_indexed_article(engine, instance_dir: Path, title: str) -> int:
    """A published English article in Hanbit Pay, in the search index as a save would put it.

    The app indexes after its own commits only (portal/search.py skips other engines' sessions),
    so the test updates the index folder the live server reads, the way that hook does; the
    maintenance lock waits for the rebuild that demo.load started, if it is still running."""
    with Session(engine, expire_on_commit=False) as session:
        brand_id = hanbit_pay_id(session)
        section = session.scalar(
            select(Section)
            .join(SectionTranslation)
            .where(
                Section.brand_id == brand_id,
                SectionTranslation.locale == "en",
                SectionTranslation.title == SECTION_TITLE,
            )
        )
        assert section is not None, f"no section {SECTION_TITLE!r} in {BRAND}"
        last = session.scalar(
            select(func.max(Article.position)).where(Article.section_id == section.id)
        )
        article = Factory(session).article(
            section,
            titles={"en": title},
            body="A **zephyrcard** surcharge is added by the card's issuer, not by Hanbit Pay.",
            position=(last or 0) + 100,
        )
        folder = index_folder(instance_dir, f"sqlite:///{instance_dir}/portal.db")
        index = WhooshIndex(folder / "index")
        deadline = time.monotonic() + TIMEOUT_MS / 1000
        while not index.exists():
            assert time.monotonic() < deadline, "the live server never built its search index"
            time.sleep(0.1)
        with open(folder / ".maintenance.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                added = index.update(search_documents.documents(session, article_ids={article.id}))
            finally:
                index.close()
        assert added == 1
        return article.id


def test_subject_typed_shows_a_matching_article_under_it(
    live_server, browser, engine, instance_dir
):
    # Suggestions come with htmx only: one run, in a context of its own with JavaScript on.
    title = "Zephyrcard surcharge on foreign receipts"
    article_id = add_indexed_article(engine, instance_dir, title)
    form_id = make_form(engine)
    context = browser.new_context(java_script_enabled=True)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        open_form(page, live_server, form_id)
        subject = page.get_by_role("textbox", name="Subject", exact=True)
        suggestions = page.locator("#suggestions")
        expect(suggestions.get_by_role("link")).to_have_count(0)

        subject.press_sequentially("zephyrcard surcharge", delay=60)

        link = suggestions.get_by_role("link", name=title, exact=True)
        expect(link).to_be_visible()
        expect(suggestions).to_contain_text("These articles may answer your question:")
        expect(link).to_have_attribute(
            "href",
            re.compile(
                rf"^/{BRAND}/{LOCALE}/requests/suggested/{article_id}\?key=[^&]+&form={form_id}$"
            ),
        )
        expect(link).to_have_attribute("target", "_blank")
        box, under = subject.bounding_box(), suggestions.bounding_box()
        assert under["y"] >= box["y"] + box["height"] - 1, "the suggestions are not under it"
        expect(subject).to_be_focused()
        expect(subject).to_have_value("zephyrcard surcharge")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(
            path=str(ARTIFACTS / "test_subject_typed_shows_a_matching_article_under_it-js.png"),
            full_page=True,
        )

        with context.expect_page() as opened:
            link.click()
        article = opened.value
        article.wait_for_load_state()
        expect(article).to_have_url(
            re.compile(rf"/{BRAND}/{LOCALE}/articles/{article_id}-[^/?#]+$")
        )
        expect(article.get_by_role("heading", level=1)).to_have_text(title)
    finally:
        context.close()


# ------------------------------------------- answers that open questions, files kept


def test_a_question_opened_by_an_answer_is_not_marked_wrong_before_it_is_answered(
    live_server, open_page, javascript, screenshot, engine
):
    form_id = make_form(engine)
    page = open_page()
    open_form(page, live_server, form_id)
    fill_about(page, Visitor("js" if javascript else "nojs"))

    choose_method(page, javascript, "Card")

    screenshot(page, "opened")
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(page.locator(".error")).to_have_count(0)
    expect(last4_box(page)).not_to_have_attribute("aria-invalid", "true")


def test_a_file_chosen_before_the_questions_change_is_kept(
    live_server, open_page, javascript, engine, tmp_path
):
    form_id = make_form(engine)
    png = write_file(tmp_path, "early.png", PNG)
    page = open_page()
    open_form(page, live_server, form_id)
    page.get_by_label("Screenshot").set_input_files(png)

    choose_method(page, javascript, "Card")

    # Kept either in the input or as a staged file the form lists (with "Remove").
    chosen = page.get_by_label("Screenshot").input_value()
    staged = page.locator(".staged-file").all_inner_texts()
    assert chosen.endswith("early.png") or any("early.png" in s for s in staged), (
        f"the file is gone: input {chosen!r}, staged {staged}"
    )
