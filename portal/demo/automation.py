"""Demo automation: Hanbit Pay's rule "Refunds", which sends new requests about refunds (환불)
to its Billing group, high priority, with a note saying so."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb import clock
from kb.models import Brand
from kb.people import User
from portal.desk import assignment
from portal.desk.automation import rules
from portal.desk.automation.models import AutomationRule
from portal.desk.models import AgentGroup

BRAND = "hanbit-pay"
GROUP = "Billing"
AGENT = "agent@example.com"
RULE = rules.Draft(
    name="Refunds",
    active=True,
    events=["ticket_created"],
    match="any",
    conditions=[("text_contains", "환불"), ("text_contains", "refund")],
    actions=[
        ("assign", GROUP, ""),
        ("set_priority", "high", ""),
        ("add_note", "", "Routed by rule Refunds"),
    ],
)


def load(session: Session, brands: dict[str, Brand]) -> None:
    """The Billing group (with the demo agent) and the rule, unless Hanbit Pay has them."""
    brand = brands.get(BRAND)
    if brand is None:
        return
    group = session.scalar(
        select(AgentGroup).where(AgentGroup.brand_id == brand.id, AgentGroup.name == GROUP)
    )
    if group is None:
        agent = session.scalar(select(User).where(User.email == AGENT))
        assignment.save_group(session, None, brand.id, GROUP, [agent.id] if agent else [])
    taken = session.scalar(
        select(AutomationRule.id).where(
            AutomationRule.brand_id == brand.id, AutomationRule.name == RULE.name
        )
    )
    if taken is None:
        rules.save_rule(session, None, brand, None, RULE, now=clock.now())
