"""Demo customer notifications: Hanbit Pay mails its requesters when a request is received, when
an agent replies and when it is solved, worded in Korean, English and Japanese."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.models import Brand
from portal.desk.automation.models import CustomerNotification, NotificationTemplate

SWITCHED_ON = ("received", "agent_replied", "solved")

WORDING = {
    "received": {
        "ko": (
            "[{{brand_name}}] 문의가 접수되었습니다 (#{{ticket_id}})",
            "{{requester_name}}님, 안녕하세요.\n\n"
            "'{{ticket_subject}}' 문의를 잘 받았습니다. 담당자가 확인한 뒤 영업일 기준 "
            "1일 안에 답변드리겠습니다.\n\n"
            "진행 상황은 아래 링크에서 언제든지 확인하실 수 있습니다.\n{{ticket_link}}\n\n"
            "{{brand_name}} 고객센터 드림",
        ),
        "en": (
            "We've got your request (#{{ticket_id}})",
            "Hi {{requester_name}},\n\n"
            'Thanks for getting in touch about "{{ticket_subject}}". Someone from our team '
            "will look into it and get back to you within one business day.\n\n"
            "You can follow your request here at any time:\n{{ticket_link}}\n\n"
            "The {{brand_name}} support team",
        ),
        "ja": (
            "【{{brand_name}}】お問い合わせを受け付けました（#{{ticket_id}}）",
            "{{requester_name}} 様\n\n"
            "「{{ticket_subject}}」についてのお問い合わせを受け付けました。担当者が内容を"
            "確認のうえ、1営業日以内にご連絡いたします。\n\n"
            "対応状況は次のページからいつでもご確認いただけます。\n{{ticket_link}}\n\n"
            "{{brand_name}} カスタマーサポート",
        ),
    },
    "agent_replied": {
        "ko": (
            "[{{brand_name}}] 문의 #{{ticket_id}}에 답변드립니다",
            "{{requester_name}}님, 안녕하세요. {{brand_name}} 고객센터 {{agent_name}}입니다.\n\n"
            "{{last_reply}}\n\n"
            "더 궁금하신 점이 있으면 이 메일에 바로 답장해 주세요.\n{{ticket_link}}",
        ),
        "en": (
            "Re: {{ticket_subject}} (#{{ticket_id}})",
            "Hi {{requester_name}},\n\n"
            "{{last_reply}}\n\n"
            "If anything is unclear, just reply to this email.\n"
            "{{agent_name}}, {{brand_name}} support\n{{ticket_link}}",
        ),
        "ja": (
            "【{{brand_name}}】お問い合わせ #{{ticket_id}} へのご回答",
            "{{requester_name}} 様\n\n"
            "{{brand_name}} カスタマーサポートの{{agent_name}}です。\n\n"
            "{{last_reply}}\n\n"
            "ご不明な点がございましたら、このメールにそのままご返信ください。\n{{ticket_link}}",
        ),
    },
    "solved": {
        "ko": (
            "[{{brand_name}}] 문의 #{{ticket_id}}이(가) 해결되었습니다",
            "{{requester_name}}님, 안녕하세요.\n\n"
            "'{{ticket_subject}}' 문의를 해결 완료로 처리했습니다. 이용해 주셔서 감사합니다.\n\n"
            "아직 해결되지 않은 부분이 있다면 이 메일에 답장해 주세요. 문의가 다시 열리고 "
            "담당자가 이어서 도와드립니다.\n{{ticket_link}}",
        ),
        "en": (
            "Your request #{{ticket_id}} is solved",
            "Hi {{requester_name}},\n\n"
            'We\'ve marked "{{ticket_subject}}" as solved. Thanks for your patience.\n\n'
            "If something still isn't right, simply reply to this email and we'll pick it "
            "up again.\n{{ticket_link}}\n\nThe {{brand_name}} support team",
        ),
        "ja": (
            "【{{brand_name}}】お問い合わせ #{{ticket_id}} は解決しました",
            "{{requester_name}} 様\n\n"
            "「{{ticket_subject}}」のお問い合わせを解決済みとさせていただきました。"
            "ご利用いただきありがとうございます。\n\n"
            "まだ解決していない点がございましたら、このメールにご返信ください。"
            "お問い合わせを再開し、引き続き対応いたします。\n{{ticket_link}}\n\n"
            "{{brand_name}} カスタマーサポート",
        ),
    },
}


def load(session: Session, brands: dict[str, Brand]) -> None:
    """Hanbit Pay's notifications, once (a brand that has any kept as it is)."""
    brand = brands.get("hanbit-pay")
    if brand is None:
        return
    configured = session.scalar(
        select(CustomerNotification.id).where(CustomerNotification.brand_id == brand.id).limit(1)
    )
    if configured is not None:
        return
    for kind in SWITCHED_ON:
        session.add(CustomerNotification(brand_id=brand.id, kind=kind, enabled=True))
    for kind, per_locale in WORDING.items():
        for locale, (subject, body) in per_locale.items():
            if locale in (brand.locales or []):
                session.add(
                    NotificationTemplate(
                        brand_id=brand.id, kind=kind, locale=locale, subject=subject, body=body
                    )
                )
    session.flush()
