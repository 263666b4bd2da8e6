"""Demo requests: customers in two organizations, their requests in several states, agent
replies and files, and one request shared with someone outside the organization."""

import io
import secrets
from datetime import timedelta
from pathlib import Path

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from kb import attachments, clock
from kb.models import Brand
from kb.people import CustomerOrganization, User, display_name_for_customers
from portal.desk.models import (
    AgentGroup,
    AgentGroupMember,
    CannedResponse,
    InquiryForm,
    Ticket,
    TicketFile,
    TicketMessage,
    TicketShare,
)

ORGANIZATIONS = [
    # name, email domains, members see each other's requests
    ("Daehan Logistics", [], True),
    ("Fjällbyn AB", [], False),
]
MEMBERS = {
    "customer@example.com": "Daehan Logistics",
    "colleague@example.com": "Daehan Logistics",
    "outsider@example.com": "Fjällbyn AB",
}

# brand slug, locale, requester, subject, description, status, days ago, agent reply or None
REQUESTS = [
    (
        "hanbit-pay",
        "ko",
        "customer@example.com",
        "카드 결제가 두 번 청구되었어요",
        "어제 주문(#A-20418) 결제가 카드에서 두 번 빠져나갔습니다. 확인 부탁드립니다.",
        "pending",
        2,
        "확인해 보니 두 번째 결제는 승인 취소 처리 중입니다. 카드사 명세서를 보내 주실 수 "
        "있을까요?",
    ),
    (
        "hanbit-pay",
        "en",
        "customer@example.com",
        "QR payment fails at the counter",
        "The app shows 'payment pending' for a minute and then fails. iPhone 15, app 5.2.",
        "open",
        1,
        None,
    ),
    (
        "hanbit-pay",
        "ko",
        "customer@example.com",
        "비밀번호 재설정 메일이 오지 않아요",
        "재설정 메일을 세 번 요청했는데 받은편지함과 스팸함 모두에 없습니다.",
        "solved",
        9,
        "메일 주소에 오타가 있어 수정해 드렸습니다. 다시 요청해 보세요.",
    ),
    (
        "hanbit-pay",
        "en",
        "colleague@example.com",
        "Refund for a cancelled order",
        "Order #B-7731 was cancelled by the shop but the refund has not arrived yet.",
        "new",
        0,
        None,
    ),
    (
        "hanbit-pay",
        "ko",
        "colleague@example.com",
        "법인카드 등록 문의",
        "회사 법인카드를 앱에 등록할 수 있나요?",
        "closed",
        40,
        "법인카드는 '카드 관리 > 카드 추가'에서 등록할 수 있습니다.",
    ),
    (
        "norrsken-energi",
        "sv",
        "outsider@example.com",
        "Fel mätarställning på fakturan",
        "Fakturan för oktober visar 4 812 kWh men mätaren visade 4 218 kWh.",
        "open",
        3,
        "Tack! Kan du skicka en bild på mätaren?",
    ),
    (
        "norrsken-energi",
        "en",
        "outsider@example.com",
        "Moving house in January",
        "We move on 15 January. How do I take the contract with me?",
        "solved",
        12,
        "Tell us the new address under Mina sidor > Flytt; the contract moves with you.",
    ),
    (
        "norrsken-energi",
        "en",
        "customer@example.com",
        "Invoice in English?",
        "Can I get my invoices in English instead of Swedish?",
        "pending",
        5,
        "Yes: choose English under Settings > Language. Shall we change it for you?",
    ),
]
RECEIPT = (
    b"Hanbit Pay card statement (excerpt)\n"
    b"2025-06-01  HANBIT*MARKET  48,000 KRW\n"
    b"2025-06-01  HANBIT*MARKET  48,000 KRW\n"
)


# Brand-wide canned responses (placeholders are filled when an agent inserts one).
CANNED = (
    (
        "We are on it",
        "Hello {{requester_name}},\n\nThank you for request #{{ticket_id}}. We are looking into"
        " it and will write again within one working day.\n\n{{agent_name}}",
    ),
    (
        "Solved: please confirm",
        "Hello {{requester_name}},\n\nWe believe request #{{ticket_id}} is solved now. If"
        " anything is still wrong, just reply to this message.\n\n{{agent_name}}",
    ),
)


def load(session: Session, brands: dict[str, Brand], users: dict[str, User]) -> None:
    """Adds the organizations and requests once (nothing when demo requests exist already)."""
    if session.scalar(select(Ticket.id).where(Ticket.requester_email == "customer@example.com")):
        return
    orgs = {}
    for name, domains, shares in ORGANIZATIONS:
        org = session.scalar(select(CustomerOrganization).where(CustomerOrganization.name == name))
        if org is None:
            org = CustomerOrganization(name=name, domains=domains, shares_requests=shares)
            session.add(org)
        orgs[name] = org
    session.flush()
    for email, org_name in MEMBERS.items():
        users[email].customer_org_id = orgs[org_name].id
    agent = users["agent@example.com"]
    now = clock.now()
    groups = {}
    for slug, brand in brands.items():
        # A support group per brand (the agent in it) and canned responses for its agents.
        group = AgentGroup(brand_id=brand.id, name="Support")
        session.add(group)
        session.flush()
        session.add(AgentGroupMember(group_id=group.id, user_id=agent.id))
        groups[slug] = group
        for title, body in CANNED:
            session.add(CannedResponse(brand_id=brand.id, title=title, body=body))
    made = []
    for slug, locale, email, subject, text, status, days, answer in REQUESTS:
        brand = brands.get(slug)
        if brand is None:
            continue
        requester = users[email]
        created = now - timedelta(days=days, hours=3)
        form = session.scalar(
            select(InquiryForm).where(InquiryForm.brand_id == brand.id).order_by(InquiryForm.id)
        )
        ticket = Ticket(
            brand_id=brand.id,
            locale=locale,
            form_id=form.id if form else None,
            form_version=form.version if form else None,
            subject=subject,
            description=text,
            status=status,
            channel="web",
            requester_id=requester.id,
            requester_name=requester.name,
            requester_email=requester.email,
            customer_org_id=requester.customer_org_id,
            answers=[],
            details={"user_agent": "Demo"},
            link_secret=secrets.token_hex(16),
            solved_at=created + timedelta(days=1) if status in ("solved", "closed") else None,
            # Answered ones are the agent's; new and open ones wait in the unassigned queue.
            assignee_id=agent.id if answer else None,
            group_id=groups[slug].id,
            priority="high" if "두 번" in subject or "fails" in subject else "normal",
            created_at=created,
            updated_at=created + timedelta(hours=2 if answer else 0),
            # What the schedule bot counts from (portal.desk.automation.schedules).
            status_changed_at=created + timedelta(hours=2 if answer else 0),
            requester_replied_at=created,
            agent_replied_at=created + timedelta(hours=2) if answer else None,
        )
        session.add(ticket)
        session.flush()
        session.add(
            TicketMessage(
                ticket_id=ticket.id,
                author_id=requester.id,
                author_name=requester.name,
                author_email=requester.email,
                body=text,
                created_at=created,
            )
        )
        if answer:
            session.add(
                TicketMessage(
                    ticket_id=ticket.id,
                    author_id=agent.id,
                    author_name=display_name_for_customers(agent),
                    author_email=agent.email,
                    from_requester=False,
                    body=answer,
                    created_at=created + timedelta(hours=2),
                )
            )
        made.append(ticket)
    if made:
        first = made[0]  # the double charge: a statement attached, shared with the outsider
        _attach(session, first, "statement.txt", RECEIPT, now)
        session.add(
            TicketShare(
                ticket_id=first.id,
                email="outsider@example.com",
                user_id=users["outsider@example.com"].id,
                added_by_id=first.requester_id,
                created_at=now,
            )
        )
    session.flush()


def _attach(session: Session, ticket: Ticket, name: str, data: bytes, now) -> None:
    if not has_app_context():
        return
    uploads = Path(current_app.instance_path) / "uploads"
    received = attachments.receive(uploads, io.BytesIO(data), name, attachments.MAX_FILE_BYTES)
    try:
        if received.content_type is None:
            return
        session.add(
            TicketFile(
                token=secrets.token_hex(16),
                brand_id=ticket.brand_id,
                ticket_id=ticket.id,
                sha256=received.sha256,
                filename=received.name,
                content_type=received.content_type,
                size=received.size,
                created_at=now,
            )
        )
        received.keep(uploads)
    finally:
        received.discard()
