"""Demo mail addresses: each brand's support address, and Daehan Logistics' own address at
Hanbit Pay, whose mail lands in the organization's private requests (its private form)."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.models import Brand
from kb.people import CustomerOrganization
from portal.desk.forms import create_form
from portal.desk.models import InquiryForm
from portal.mail.models import MailAddress

SUPPORT_ADDRESSES = {
    "support@hanbit-pay.example": "hanbit-pay",
    "support@norrsken-energi.example": "norrsken-energi",
}
ORGANIZATION_ADDRESSES = {"daehan@hanbit-pay.example": ("hanbit-pay", "Daehan Logistics")}
PRIVATE_FORM_NAMES = {
    "ko": "대한물류 전용 문의",
    "en": "Daehan Logistics requests",
    "ja": "大韓物流専用のお問い合わせ",
}
PRIVATE_FORM_DESCRIPTIONS = {
    "ko": "대한물류 임직원만 볼 수 있는 요청입니다.",
    "en": "Requests only Daehan Logistics' people see.",
    "ja": "大韓物流の方だけが見られるお問い合わせです。",
}


def addresses() -> list[str]:
    return [*SUPPORT_ADDRESSES, *ORGANIZATION_ADDRESSES]


def load(session: Session, brands: dict[str, Brand]) -> None:
    """Adds the addresses that are missing (and the private form the organization's needs)."""
    for address, slug in SUPPORT_ADDRESSES.items():
        brand = brands.get(slug)
        if brand is not None and _missing(session, address):
            session.add(MailAddress(address=address, brand_id=brand.id, form_id=None))
    for address, (slug, org_name) in ORGANIZATION_ADDRESSES.items():
        brand = brands.get(slug)
        org = session.scalar(
            select(CustomerOrganization).where(CustomerOrganization.name == org_name)
        )
        if brand is None or org is None or not _missing(session, address):
            continue
        form = _private_form(session, brand, org)
        session.add(
            MailAddress(address=address, brand_id=brand.id, form_id=form.id, customer_org_id=org.id)
        )
    session.flush()


def _missing(session: Session, address: str) -> bool:
    return session.scalar(select(MailAddress.id).where(MailAddress.address == address)) is None


def _private_form(session: Session, brand: Brand, org: CustomerOrganization) -> InquiryForm:
    for form in session.scalars(select(InquiryForm).where(InquiryForm.brand_id == brand.id)):
        if form.audience == "organizations" and org.id in (form.organization_ids or []):
            return form
    names = {k: v for k, v in PRIVATE_FORM_NAMES.items() if k in brand.locales}
    descriptions = {k: v for k, v in PRIVATE_FORM_DESCRIPTIONS.items() if k in brand.locales}
    form = create_form(
        session, brand, names, descriptions, audience="organizations", organization_ids=[org.id]
    )
    session.flush()
    return form
