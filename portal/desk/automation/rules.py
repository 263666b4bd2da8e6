"""The rule bot: ordered rules per brand, with conditions and actions, run on ticket events.

A rule says on which events it runs (a ticket made, a customer's or an agent's reply, a status
change), whether all or any of its conditions must hold, and what it does then. The actions go
through the agents' operations (agent_tickets.change_properties, replies.reply, the requester
mail) as a Bot ("rule Refunds"), so the ticket's history names the rule.

`on_event` is called by portal.desk.automation.events for every event: it reads the brand's
active rules with one query and evaluates them in Python (the analysed words of each condition
are kept per rule version). A rule acts at most once per ticket while one outside event is
handled (events.chain(session).acted), so two rules that answer each other cannot loop. An
action that cannot be done (the agent left the brand, say) becomes an internal note naming the
rule; the rest goes on: a rule never makes a form submission or a mail fail.

Texts are matched as the search matches them (kb.search.analysis): words in any case and, in
English and Swedish, in any form ("refund" finds "Refunds"); Korean and Japanese by character
pairs ("환불" is found inside "환불요청"). The words of a condition must all occur, in any order.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kb.models import Brand
from kb.people import CustomerOrganization, User
from kb.search.analysis import STEM_LOCALES, analyzer_for, has_cjk, normalise
from portal.desk import agent_tickets, assignment, placeholders, replies, trash
from portal.desk.actors import Bot
from portal.desk.automation import business_hours, events, webhooks
from portal.desk.automation.models import AutomationRule
from portal.desk.models import (
    TICKET_PRIORITIES,
    TICKET_STATUSES,
    TICKET_TYPES,
    AgentGroup,
    InquiryForm,
    Ticket,
    TicketTag,
)
from portal.security import audit

log = logging.getLogger(__name__)

# The events a rule may run on (portal.desk.automation.events).
EVENTS = (
    events.TICKET_CREATED,
    events.CUSTOMER_REPLIED,
    events.AGENT_REPLIED,
    events.STATUS_CHANGED,
)
MATCHES = ("all", "any")
CHANNELS = ("web", "email", "api")
MAX_NAME = 100
MAX_CONDITIONS = 30
MAX_ACTIONS = 20
MAX_VALUE = 500
MAX_MAIL_BODY = 10_000
TRY_DAYS = 30  # a dry run looks at the tickets made this many days back
TRY_CAP = 5000  # ... and at most this many of them
TRY_SHOWN = 20

# Each condition a rule can have: its kind (what the editor shows) -> (field, op) as stored.
CONDITIONS = {
    "subject_contains": ("subject", "contains"),
    "body_contains": ("body", "contains"),
    "text_contains": ("text", "contains"),
    "requester_email_is": ("requester_email", "is"),
    "requester_domain_is": ("requester_domain", "is"),
    "organization_is": ("organization", "is"),
    "form_is": ("form", "is"),
    "answer_is": ("answer", "is"),
    "channel_is": ("channel", "is"),
    "brand_is": ("brand", "is"),
    "locale_is": ("locale", "is"),
    "priority_is": ("priority", "is"),
    "status_is": ("status", "is"),
    "tags_include": ("tags", "include"),
    "tags_exclude": ("tags", "exclude"),
    "within_business_hours": ("business_hours", "within"),
    "outside_business_hours": ("business_hours", "outside"),
}
_KIND_OF = {pair: kind for kind, pair in CONDITIONS.items()}
# The conditions that take no value.
NO_VALUE = ("brand_is", "within_business_hours", "outside_business_hours")

ACTIONS = (
    "assign",
    "set_priority",
    "set_type",
    "set_status",
    "add_tags",
    "remove_tags",
    "add_note",
    "mail_requester",
    "notify_webhook",
    "stop",
)


class RuleInvalid(ValueError):
    """What is wrong with a rule as typed: {"name" | "events" | "actions" | "condition-<row>" |
    "action-<row>": error code}."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(", ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass
class Draft:
    """A rule as typed in the editor: rows of conditions (kind, value) and of actions (type,
    value, body: the mail's text). Rows with no kind or type are blank and left out."""

    name: str = ""
    active: bool = False
    events: list[str] = field(default_factory=list)
    match: str = "all"
    conditions: list[tuple[str, str]] = field(default_factory=list)
    actions: list[tuple[str, str, str]] = field(default_factory=list)


# --- reading and writing what an admin types ----------------------------------------------------


def _form_named(session: Session, brand: Brand, text: str) -> InquiryForm | None:
    forms = session.scalars(select(InquiryForm).where(InquiryForm.brand_id == brand.id)).all()
    wanted = text.strip().casefold()
    for form in forms:
        if str(form.id) == wanted or wanted in {n.strip().casefold() for n in form.names.values()}:
            return form
    return None


def _form_name(form: InquiryForm | None) -> str:
    if form is None:
        return ""
    names = form.names or {}
    return names.get("en") or next(iter(names.values()), "") or str(form.id)


def _agent_named(session: Session, brand: Brand, text: str) -> User | None:
    wanted = text.strip().casefold()
    for user in assignment.candidates(session, brand.id):
        if (user.email or "").casefold() == wanted or (user.name or "").casefold() == wanted:
            return user
    return None


def _group_named(session: Session, brand: Brand, text: str) -> AgentGroup | None:
    wanted = text.strip().casefold()
    for group in assignment.groups_of_brand(session, brand.id):
        if group.name.casefold() == wanted:
            return group
    return None


def _tags(text: str) -> list[str]:
    try:
        tags = agent_tickets.parse_tags(text)
    except agent_tickets.PropertyError as error:
        raise RuleInvalid({"": error.code}) from error
    if not tags:
        raise RuleInvalid({"": "value_required"})
    return tags


def condition_value(session: Session, brand: Brand, kind: str, text: str):
    """The stored value of a condition typed as `text`; RuleInvalid({"": code}) when unusable."""
    text = (text or "").strip()
    if kind not in CONDITIONS:
        raise RuleInvalid({"": "unknown_condition"})
    if kind in NO_VALUE:
        return brand.id if kind == "brand_is" else None
    if not text:
        raise RuleInvalid({"": "value_required"})
    if len(text) > MAX_VALUE:
        raise RuleInvalid({"": "value_too_long"})
    field_name = CONDITIONS[kind][0]
    if field_name in ("subject", "body", "text"):
        return text
    if field_name == "requester_email":
        if "@" not in text:
            raise RuleInvalid({"": "not_an_email"})
        return text.lower()
    if field_name == "requester_domain":
        domain = text.lower().lstrip("@")
        if "." not in domain or "@" in domain or " " in domain:
            raise RuleInvalid({"": "not_a_domain"})
        return domain
    if field_name == "organization":
        org = session.scalar(
            select(CustomerOrganization).where(
                func.lower(CustomerOrganization.name) == text.lower()
            )
        )
        if org is None:
            raise RuleInvalid({"": "unknown_organization"})
        return org.id
    if field_name == "form":
        form = _form_named(session, brand, text)
        if form is None:
            raise RuleInvalid({"": "unknown_form"})
        return form.id
    if field_name == "answer":
        key, sep, value = text.partition("=")
        if not sep or not key.strip():
            raise RuleInvalid({"": "answer_format"})
        return f"{key.strip()}={value.strip()}"
    if field_name == "channel":
        if text.lower() not in CHANNELS:
            raise RuleInvalid({"": "unknown_channel"})
        return text.lower()
    if field_name == "locale":
        if text not in (brand.locales or []):
            raise RuleInvalid({"": "unknown_locale"})
        return text
    if field_name == "priority":
        if text.lower() not in TICKET_PRIORITIES:
            raise RuleInvalid({"": "unknown_priority"})
        return text.lower()
    if field_name == "status":
        if text.lower() not in TICKET_STATUSES:
            raise RuleInvalid({"": "unknown_status"})
        return text.lower()
    return _tags(text)  # tags include / exclude


def condition_text(session: Session, condition: dict) -> tuple[str, str]:
    """A stored condition as the editor shows it: (kind, value as typed)."""
    kind = _KIND_OF.get((condition.get("field"), condition.get("op")), "")
    value = condition.get("value")
    if kind == "organization_is":
        org = session.get(CustomerOrganization, value) if value else None
        return kind, org.name if org else ""
    if kind == "form_is":
        return kind, _form_name(session.get(InquiryForm, value) if value else None)
    if kind in NO_VALUE:
        return kind, ""
    if isinstance(value, list):
        return kind, ", ".join(value)
    return kind, "" if value is None else str(value)


def action_value(session: Session, brand: Brand, kind: str, text: str, body: str = ""):
    """The stored value of an action typed as `text` (and `body` for a mail or a note);
    RuleInvalid({"": code}) when unusable."""
    text, body = (text or "").strip(), (body or "").strip()
    if kind not in ACTIONS:
        raise RuleInvalid({"": "unknown_action"})
    if kind == "stop":
        return None
    if kind == "add_note":
        note = body or text
        if not note:
            raise RuleInvalid({"": "value_required"})
        if len(note) > MAX_MAIL_BODY:
            raise RuleInvalid({"": "value_too_long"})
        return note
    if kind == "mail_requester":
        if not text or not body:
            raise RuleInvalid({"": "mail_required"})
        if len(text) > 200 or len(body) > MAX_MAIL_BODY:
            raise RuleInvalid({"": "value_too_long"})
        if placeholders.unknown(text) or placeholders.unknown(body):
            raise RuleInvalid({"": "unknown_placeholder"})
        return {"subject": text, "body": body}
    if not text:
        raise RuleInvalid({"": "value_required"})
    if kind == "assign":
        group = _group_named(session, brand, text)
        if group is not None:
            return f"group:{group.id}"
        agent = _agent_named(session, brand, text)
        if agent is not None:
            return f"agent:{agent.id}"
        raise RuleInvalid({"": "unknown_assignee"})
    if kind == "set_priority":
        if text.lower() not in TICKET_PRIORITIES:
            raise RuleInvalid({"": "unknown_priority"})
        return text.lower()
    if kind == "set_type":
        if text.lower() not in TICKET_TYPES:
            raise RuleInvalid({"": "unknown_type"})
        return text.lower()
    if kind == "set_status":
        if text.lower() not in TICKET_STATUSES:
            raise RuleInvalid({"": "unknown_status"})
        return text.lower()
    if kind in ("add_tags", "remove_tags"):
        return _tags(text)
    # notify_webhook: a target of the brand, by name
    for target in webhooks.targets_of_brand(session, brand.id):
        if (
            str(getattr(target, "name", "")).casefold() == text.casefold()
            or str(getattr(target, "id", "")) == text
        ):
            return target.id
    raise RuleInvalid({"": "unknown_webhook"})


def action_text(session: Session, action: dict, brand_id: int) -> tuple[str, str, str]:
    """A stored action as the editor shows it: (type, value as typed, body)."""
    kind, value = action.get("type", ""), action.get("value")
    if kind == "assign" and isinstance(value, str):
        what, _, raw = value.partition(":")
        row = session.get(AgentGroup if what == "group" else User, int(raw or 0))
        if row is None:
            return kind, "", ""
        return kind, row.name if what == "group" else (row.email or row.name), ""
    if kind == "mail_requester" and isinstance(value, dict):
        return kind, value.get("subject", ""), value.get("body", "")
    if kind == "add_note":
        return kind, "", value or ""
    if kind == "notify_webhook":
        for target in webhooks.targets_of_brand(session, brand_id):
            if target.id == value:
                return kind, target.name, ""
        return kind, "" if value is None else str(value), ""
    if isinstance(value, list):
        return kind, ", ".join(value), ""
    return kind, "" if value is None else str(value), ""


def draft_of(session: Session, rule: AutomationRule) -> Draft:
    """A saved rule as the editor shows it."""
    return Draft(
        name=rule.name,
        active=rule.active,
        events=list(rule.events or []),
        match=rule.match,
        conditions=[condition_text(session, c) for c in rule.conditions or []],
        actions=[action_text(session, a, rule.brand_id) for a in rule.actions or []],
    )


def check(
    session: Session, brand: Brand, draft: Draft, rule: AutomationRule | None = None
) -> tuple[list[dict], list[dict]]:
    """The conditions and actions to store for `draft`; RuleInvalid with a code per bad part
    (each row by its number in the draft, blank rows counted)."""
    errors: dict[str, str] = {}
    name = " ".join((draft.name or "").split())
    if not name:
        errors["name"] = "name_required"
    elif len(name) > MAX_NAME:
        errors["name"] = "name_too_long"
    else:
        taken = session.scalar(
            select(AutomationRule.id).where(
                AutomationRule.brand_id == brand.id,
                func.lower(AutomationRule.name) == name.lower(),
                AutomationRule.id != (rule.id if rule is not None else 0),
            )
        )
        if taken:
            errors["name"] = "name_taken"
    if not draft.events or any(e not in EVENTS for e in draft.events):
        errors["events"] = "events_required"
    if draft.match not in MATCHES:
        errors["match"] = "match_invalid"
    conditions, actions = [], []
    for row, (kind, text) in enumerate(draft.conditions):
        if not kind:
            continue
        try:
            value = condition_value(session, brand, kind, text)
        except RuleInvalid as error:
            errors[f"condition-{row}"] = error.errors[""]
            continue
        field_name, op = CONDITIONS[kind]
        conditions.append({"field": field_name, "op": op, "value": value})
    for row, (kind, text, body) in enumerate(draft.actions):
        if not kind:
            continue
        try:
            value = action_value(session, brand, kind, text, body)
        except RuleInvalid as error:
            errors[f"action-{row}"] = error.errors[""]
            continue
        actions.append({"type": kind, "value": value})
    if len(conditions) > MAX_CONDITIONS:
        errors["conditions"] = "too_many_conditions"
    if not actions and not any(k.startswith("action-") for k in errors):
        errors["actions"] = "actions_required"
    elif len(actions) > MAX_ACTIONS:
        errors["actions"] = "too_many_actions"
    if errors:
        raise RuleInvalid(errors)
    return conditions, actions


# --- the admins' operations -------------------------------------------------------------------


def rules_of_brand(session: Session, brand_id: int) -> list[AutomationRule]:
    """Every rule of the brand, in the order they run."""
    return list(
        session.scalars(
            select(AutomationRule)
            .where(AutomationRule.brand_id == brand_id)
            .order_by(AutomationRule.position, AutomationRule.id)
        )
    )


def _record(session, action, rule, actor, ip, now, **details) -> None:
    audit.record(
        session,
        f"automation.{action}",
        now=now,
        actor=actor,
        target=f"automation_rule:{rule.id}",
        target_name=rule.name,
        brand_id=rule.brand_id,
        ip=ip,
        details=details or None,
    )


def save_rule(
    session: Session,
    actor: User,
    brand: Brand,
    rule: AutomationRule | None,
    draft: Draft,
    *,
    ip: str = "",
    now: datetime,
) -> AutomationRule:
    """Create (rule None: last in the brand's order) or change a rule; RuleInvalid changes
    nothing. Audited as automation.rule_created / rule_changed."""
    conditions, actions = check(session, brand, draft, rule)
    created = rule is None
    if created:
        last = session.scalar(
            select(func.max(AutomationRule.position)).where(AutomationRule.brand_id == brand.id)
        )
        rule = AutomationRule(
            brand_id=brand.id,
            position=(last or 0) + 1,
            created_at=now,
            created_by_id=getattr(actor, "id", None),
        )
        session.add(rule)
    rule.name = " ".join(draft.name.split())
    rule.active = bool(draft.active)
    rule.events = [e for e in EVENTS if e in draft.events]
    rule.match = draft.match
    rule.conditions = conditions
    rule.actions = actions
    rule.updated_at = now
    rule.updated_by_id = getattr(actor, "id", None)
    session.flush()
    _record(session, "rule_created" if created else "rule_changed", rule, actor, ip, now)
    return rule


def set_active(
    session: Session, actor: User, rule: AutomationRule, active: bool, *, ip: str = "", now
) -> None:
    """Switch a rule on or off (audited as automation.rule_changed)."""
    if rule.active == active:
        return
    rule.active = active
    rule.updated_at = now
    rule.updated_by_id = getattr(actor, "id", None)
    session.flush()
    _record(session, "rule_changed", rule, actor, ip, now, active=active)


def move_rule(
    session: Session, actor: User, rule: AutomationRule, step: int, *, ip: str = "", now
) -> bool:
    """Move a rule one place up (step -1) or down (+1) in its brand's order; False at an end."""
    ordered = rules_of_brand(session, rule.brand_id)
    at = next(i for i, r in enumerate(ordered) if r.id == rule.id)
    to = at + (1 if step > 0 else -1)
    if to < 0 or to >= len(ordered):
        return False
    ordered[at], ordered[to] = ordered[to], ordered[at]
    for position, each in enumerate(ordered, start=1):
        each.position = position
    session.flush()
    _record(session, "rule_reordered", rule, actor, ip, now, order=[r.id for r in ordered])
    return True


def delete_rule(session: Session, actor: User, rule: AutomationRule, *, ip: str = "", now) -> None:
    """Delete a rule (audited as automation.rule_deleted)."""
    _record(session, "rule_deleted", rule, actor, ip, now)
    session.delete(rule)
    session.flush()


# --- evaluating ---------------------------------------------------------------------------------


def _family(locale: str) -> str:
    return locale if locale in STEM_LOCALES else "en"


_analysers: dict = {}


def _terms(locale: str, text: str) -> list[str]:
    """kb.search.analysis.terms, with each locale's analyser built once (its stemmer keeps a
    cache, which a new analyser per call would lose)."""
    analyse = _analysers.get(locale)
    if analyse is None:
        analyse = _analysers[locale] = analyzer_for(locale)
    return [t.text for t in analyse(normalise(text)) if t.text]


def _words(text: str, family: str) -> frozenset[str]:
    if has_cjk(text):
        return frozenset(_terms("ko", text))
    return frozenset(_terms(family, text))


@dataclass
class _Compiled:
    """A rule ready to evaluate: its conditions with their words analysed once."""

    rule_id: int
    events: frozenset
    any: bool
    conditions: list[tuple[str, str, object]]
    name: str = ""
    brand_id: int = 0
    actions: tuple = ()
    words: dict = field(default_factory=dict)  # (condition index, family) -> words

    def words_of(self, index: int, family: str) -> frozenset[str]:
        key = (index, family)
        found = self.words.get(key)
        if found is None:
            found = self.words[key] = _words(str(self.conditions[index][2]), family)
        return found


_compiled: dict[tuple, _Compiled] = {}


def _compile(rule: AutomationRule) -> _Compiled:
    return _Compiled(
        rule_id=rule.id,
        events=frozenset(rule.events or ()),
        any=rule.match == "any",
        conditions=[(c["field"], c["op"], c.get("value")) for c in rule.conditions or []],
        name=rule.name,
        brand_id=rule.brand_id,
        actions=tuple(rule.actions or ()),
    )


def _active_rules(session: Session, brand_id: int) -> list[_Compiled]:
    """The brand's active rules in order, compiled: one small query (ids and versions); a rule
    is read whole only when this process has not compiled that version yet."""
    versions = session.execute(
        select(AutomationRule.id, AutomationRule.updated_at)
        .where(AutomationRule.brand_id == brand_id, AutomationRule.active.is_(True))
        .order_by(AutomationRule.position, AutomationRule.id)
    ).all()
    missing = [rule_id for rule_id, at in versions if (rule_id, at) not in _compiled]
    if missing:
        if len(_compiled) > 5000:
            _compiled.clear()
        for rule in session.scalars(select(AutomationRule).where(AutomationRule.id.in_(missing))):
            _compiled[(rule.id, rule.updated_at)] = _compile(rule)
    return [_compiled[key] for key in map(tuple, versions) if key in _compiled]


class _Facts:
    """What conditions read about a ticket at an event, each read at most once."""

    def __init__(
        self, session: Session, ticket: Ticket, body: str, at: datetime, tags=None, calendar=None
    ):
        self.session, self.ticket, self.body, self.at = session, ticket, body or "", at
        self._tags = tags
        self._calendar = calendar
        self._text: dict = {}
        self._open = None

    def text_words(self, name: str, family: str, cjk: bool) -> tuple[frozenset, str]:
        key = (name, family, cjk)
        found = self._text.get(key)
        if found is None:
            if name == "subject":
                raw = self.ticket.subject or ""
            elif name == "body":
                raw = self.body
            else:
                raw = f"{self.ticket.subject or ''}\n{self.body}"
            found = self._text[key] = (
                frozenset(_terms("ko" if cjk else family, raw)),
                normalise(raw),
            )
        return found

    def tags_changed(self) -> None:
        self._tags = None

    @property
    def tags(self) -> set[str]:
        if self._tags is None:
            self._tags = set(agent_tickets.tags_of(self.session, self.ticket))
        return self._tags

    @property
    def open(self) -> bool:
        if self._open is None:
            if self._calendar is None:
                brand = self.session.get(Brand, self.ticket.brand_id)
                self._calendar = business_hours.calendar_for(self.session, brand)
            self._open = business_hours.is_open(self._calendar, self.at)
        return self._open


def _holds(compiled: _Compiled, index: int, facts: _Facts) -> bool:
    name, op, value = compiled.conditions[index]
    ticket = facts.ticket
    if name in ("subject", "body", "text"):
        family = _family(ticket.locale)
        cjk = has_cjk(str(value))
        wanted = compiled.words_of(index, family)
        found, raw = facts.text_words(name, family, cjk)
        if not wanted:  # only words the analyser drops ("the"): the text as typed
            return normalise(str(value)) in raw
        return wanted <= found
    if name == "requester_email":
        return (ticket.requester_email or "").strip().lower() == value
    if name == "requester_domain":
        return (ticket.requester_email or "").strip().lower().rpartition("@")[2] == value
    if name == "organization":
        return ticket.customer_org_id == value
    if name == "form":
        return ticket.form_id == value
    if name == "answer":
        key, _, wanted = str(value).partition("=")
        for answer in ticket.answers or []:
            if answer.get("key") == key:
                given = answer.get("value")
                given = given if isinstance(given, list) else [given]
                return any(str(g).strip().casefold() == wanted.casefold() for g in given)
        return False
    if name == "channel":
        return ticket.channel == value
    if name == "brand":
        return ticket.brand_id == value
    if name == "locale":
        return ticket.locale == value
    if name == "priority":
        return ticket.priority == value
    if name == "status":
        return ticket.status == value
    if name == "tags":
        present = any(t in facts.tags for t in value or [])
        return present if op == "include" else not present
    if name == "business_hours":
        return facts.open if op == "within" else not facts.open
    return False


def _matches(compiled: _Compiled, facts: _Facts) -> bool:
    if not compiled.conditions:
        return True
    checks = (_holds(compiled, i, facts) for i in range(len(compiled.conditions)))
    return any(checks) if compiled.any else all(checks)


# --- acting ------------------------------------------------------------------------------------


def _note_failure(session: Session, rule: _Compiled, ticket: Ticket, kind: str, why: str, now):
    replies.system_note(
        session, ticket, f"Rule “{rule.name}” could not {kind.replace('_', ' ')}: {why}.", now
    )


PROPERTY_ACTIONS = ("assign", "set_priority", "set_type", "set_status", "add_tags", "remove_tags")


def _changes(session: Session, actions: list[dict], ticket: Ticket) -> dict:
    """The property actions of a rule as one change_properties call (its changes dict)."""
    changes: dict = {}
    for action in actions:
        kind, value = action["type"], action.get("value")
        if kind == "assign":
            what, _, raw = str(value).partition(":")
            changes.pop("assignee_id", None)
            if what == "group":
                group = session.get(AgentGroup, int(raw))
                changes["group_id"] = int(raw)
                if group is not None and assignment.receivers(session, group):
                    changes["assignee_id"] = "next"
                # else nobody in the group takes tickets: the group alone
            else:
                changes["assignee_id"] = int(raw)
        elif kind in ("set_priority", "set_type", "set_status"):
            changes[kind[4:]] = value
        else:
            tags = changes["tags"] if "tags" in changes else agent_tickets.tags_of(session, ticket)
            if kind == "add_tags":
                tags = tags + [t for t in value if t not in tags]
            else:
                tags = [t for t in tags if t not in value]
            changes["tags"] = tags
    return changes


def _do(session: Session, bot: Bot, actions: list[dict], ticket: Ticket, event):
    """One action, or a run of property actions at once (one change, one set of events)."""
    kind, value, now = actions[0]["type"], actions[0].get("value"), event.now
    if kind in PROPERTY_ACTIONS:
        changes = _changes(session, actions, ticket)
        agent_tickets.change_properties(session, ticket, bot, changes, now)
    elif kind == "add_note":
        replies.reply(session, bot, ticket, value, public=False, now=now)
    elif kind == "mail_requester":
        from portal.mail import outbox
        from portal.mail.requesters import mail_about_request

        if ticket.requester_email:
            mail_about_request(
                session,
                "rule_mail",
                ticket,
                ticket.requester_email,
                auto_submitted=outbox.AUTO_GENERATED,
                mail_subject=placeholders.fill(value["subject"], ticket, bot),
                mail_body=placeholders.fill(value["body"], ticket, bot),
            )
    elif kind == "notify_webhook":
        webhooks.notify(session, value, ticket, event.kind, now)


def _attempt(session: Session, rule: _Compiled, bot: Bot, actions, ticket, event, note=True):
    """Run actions; one the desk refuses (PropertyError: refused before anything changes) is
    told in a note when `note`. True when done. Anything unexpected undoes the whole rule
    run with its savepoint (portal.desk.automation.events), and the operation goes on."""
    try:
        _do(session, bot, actions, ticket, event)
        return True
    except agent_tickets.PropertyError as error:
        if note:
            _note_failure(session, rule, ticket, actions[0]["type"], error.code, event.now)
        return False


def _act(session: Session, rule: _Compiled, ticket: Ticket, event) -> bool:
    """Run the rule's actions on the ticket, a run of property actions as one change (each
    on its own when that fails, so that the others are made); True when it says to stop
    processing rules."""
    bot = Bot("rule", rule.rule_id, rule.name, rule.brand_id)
    stop = False
    runs: list[list[dict]] = []
    for action in rule.actions:
        if action.get("type") == "stop":
            stop = True
        elif (
            action["type"] in PROPERTY_ACTIONS and runs and runs[-1][0]["type"] in PROPERTY_ACTIONS
        ):
            runs[-1].append(action)
        else:
            runs.append([action])
    for run in runs:
        if len(run) > 1 and _attempt(session, rule, bot, run, ticket, event, note=False):
            continue
        for action in run:
            _attempt(session, rule, bot, [action], ticket, event)
    return stop


# The events rules can run on.
LISTENS_TO = EVENTS


def on_event(session: Session, event) -> None:
    """Run the brand's active rules for this event (portal.desk.automation.events)."""
    if event.kind not in EVENTS:
        return
    ticket = event.ticket
    if ticket.deleted_at is not None:
        return
    active = _active_rules(session, ticket.brand_id)
    if not active:
        return
    acted = events.chain(session).acted
    message = event.message
    body = message.body if message is not None else ticket.description
    facts = _Facts(session, ticket, body, event.now)
    for rule in active:
        if event.kind not in rule.events or (rule.rule_id, ticket.id) in acted:
            continue
        if not _matches(rule, facts):
            continue
        acted.add((rule.rule_id, ticket.id))
        stop = _act(session, rule, ticket, event)
        if stop:
            return
        facts.tags_changed()  # the rule may have changed them (the rest is read off the ticket)


# --- trying a rule -----------------------------------------------------------------------------


@dataclass
class Trial:
    """What a dry run found: how many of the tickets scanned matched, the first ones, and
    whether the scan stopped at the cap."""

    matched: int
    tickets: list[Ticket]
    scanned: int
    capped: bool


def try_rule(
    session: Session, brand: Brand, draft: Draft, now: datetime, *, cap: int = TRY_CAP
) -> Trial:
    """Evaluate a rule's conditions (as typed: saved or not, on or off) against the brand's
    live tickets made in the last TRY_DAYS days, as they were made (their ticket_created view);
    changes nothing. RuleInvalid when the conditions cannot be read."""
    errors, conditions = {}, []
    for row, (kind, text) in enumerate(draft.conditions):
        if not kind:
            continue
        try:
            value = condition_value(session, brand, kind, text)
        except RuleInvalid as error:
            errors[f"condition-{row}"] = error.errors[""]
            continue
        conditions.append(CONDITIONS[kind] + (value,))
    if errors:
        raise RuleInvalid(errors)
    compiled = _Compiled(
        rule_id=0, events=frozenset(), any=draft.match == "any", conditions=conditions
    )
    found = session.scalars(
        select(Ticket)
        .where(
            Ticket.brand_id == brand.id,
            trash.live(),
            Ticket.created_at >= now - timedelta(days=TRY_DAYS),
        )
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .limit(cap + 1)
    ).all()
    capped = len(found) > cap
    found = found[:cap]
    tags: dict[int, set[str]] = {t.id: set() for t in found}
    if any(c[0] == "tags" for c in conditions) and found:
        for start in range(0, len(found), 500):
            ids = [t.id for t in found[start : start + 500]]
            for ticket_id, tag in session.execute(
                select(TicketTag.ticket_id, TicketTag.tag).where(TicketTag.ticket_id.in_(ids))
            ):
                tags[ticket_id].add(tag)
    calendar = business_hours.calendar_for(session, brand)
    matched = []
    for ticket in found:
        facts = _Facts(
            session, ticket, ticket.description, ticket.created_at, tags[ticket.id], calendar
        )
        if _matches(compiled, facts):
            matched.append(ticket)
    return Trial(len(matched), matched[:TRY_SHOWN], len(found), capped)
