"""Demo inquiry forms for the demo brands, built through the form builder's own rules."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.models import Brand
from portal.desk.forms import add_field, create_form
from portal.desk.models import InquiryForm


def _options(*rows: tuple[str, dict]) -> list[dict]:
    return [{"value": value, "labels": labels} for value, labels in rows]


def _hanbit_pay(session: Session, brand: Brand) -> None:
    payment = create_form(
        session,
        brand,
        {"ko": "결제 문의", "en": "Payment question", "ja": "お支払いの問い合わせ"},
        {
            "ko": "결제가 되지 않았거나 두 번 결제되었나요? 결제 정보를 알려 주세요.",
            "en": "A payment failed or went through twice? Tell us about the payment.",
            "ja": "決済できない、または二重に決済された場合は、お支払いの情報をお知らせください。",
        },
    )
    add_field(
        session,
        payment,
        key="payment_method",
        type="dropdown",
        required=True,
        labels={"ko": "결제수단", "en": "Payment method", "ja": "支払い方法"},
        options=_options(
            ("card", {"ko": "카드", "en": "Card", "ja": "カード"}),
            ("transfer", {"ko": "계좌이체", "en": "Bank transfer", "ja": "口座振替"}),
            ("qr", {"ko": "QR 결제", "en": "QR payment", "ja": "QR 決済"}),
        ),
    )
    add_field(
        session,
        payment,
        key="card_last4",
        type="text",
        labels={
            "ko": "카드 번호 끝 4자리",
            "en": "Last 4 digits of the card",
            "ja": "カード番号の下4桁",
        },
        help={
            "ko": "카드 번호 전체는 적지 마세요.",
            "en": "Never send the whole card number.",
            "ja": "カード番号全体は書かないでください。",
        },
        min_length=4,
        max_length=4,
        pattern="[0-9]{4}",
        condition_key="payment_method",
        condition_value="card",
    )
    add_field(
        session,
        payment,
        key="order_date",
        type="date",
        labels={"ko": "결제일", "en": "Date of the payment", "ja": "決済日"},
    )
    add_field(
        session,
        payment,
        key="screenshot",
        type="file",
        labels={"ko": "화면 캡처", "en": "Screenshot", "ja": "スクリーンショット"},
    )
    for key in ("app_version", "device"):
        add_field(session, payment, key=key, type="hidden", query_param=key)

    account = create_form(
        session,
        brand,
        {"ko": "계정 문의", "en": "Account question", "ja": "アカウントの問い合わせ"},
        {
            "ko": "로그인, 2단계 인증, 계정 삭제에 관한 문의입니다.",
            "en": "Signing in, two-step verification and closing your account.",
            "ja": "ログイン、2段階認証、アカウントの削除についてのお問い合わせです。",
        },
    )
    add_field(
        session,
        account,
        key="account_email",
        type="email",
        required=True,
        labels={
            "ko": "한빛페이 계정 이메일",
            "en": "Email of your Hanbit Pay account",
            "ja": "Hanbit Pay アカウントのメールアドレス",
        },
    )
    add_field(
        session,
        account,
        key="topic",
        type="radio",
        labels={"ko": "문의 내용", "en": "Topic", "ja": "お問い合わせ内容"},
        options=_options(
            ("login", {"ko": "로그인", "en": "Signing in", "ja": "ログイン"}),
            ("2fa", {"ko": "2단계 인증", "en": "Two-step verification", "ja": "2段階認証"}),
            ("delete", {"ko": "계정 삭제", "en": "Closing my account", "ja": "アカウントの削除"}),
        ),
    )


def _norrsken_energi(session: Session, brand: Brand) -> None:
    billing = create_form(
        session,
        brand,
        {"sv": "Fakturafråga", "en": "Billing question"},
        {
            "sv": "Frågor om din faktura, betalning eller mätarställning.",
            "en": "Questions about your invoice, a payment or a meter reading.",
        },
    )
    add_field(
        session,
        billing,
        key="invoice_number",
        type="number",
        required=True,
        labels={"sv": "Fakturanummer", "en": "Invoice number"},
        min_value=1,
    )
    add_field(
        session,
        billing,
        key="meter_reading",
        type="number",
        labels={"sv": "Mätarställning (kWh)", "en": "Meter reading (kWh)"},
        min_value=0,
    )
    add_field(
        session,
        billing,
        key="topic",
        type="multiselect",
        labels={"sv": "Vad gäller det?", "en": "What is it about?"},
        options=_options(
            ("price", {"sv": "Pris", "en": "Price"}),
            ("payment", {"sv": "Betalning", "en": "Payment"}),
            ("move", {"sv": "Flytt", "en": "Moving house"}),
        ),
    )
    add_field(
        session,
        billing,
        key="attachment",
        type="file",
        labels={"sv": "Bilaga", "en": "Attachment"},
    )


DEMO_FORMS = {"hanbit-pay": _hanbit_pay, "norrsken-energi": _norrsken_energi}


def load(session: Session, brands_by_slug: dict[str, Brand]) -> list[str]:
    """Demo forms for the given demo brands that have no forms yet; the slugs served."""
    loaded = []
    for slug, brand in brands_by_slug.items():
        build = DEMO_FORMS.get(slug)
        has_forms = session.scalar(select(InquiryForm.id).where(InquiryForm.brand_id == brand.id))
        if build is not None and has_forms is None:
            build(session, brand)
            loaded.append(slug)
    return loaded
