"""Automation benchmark: what the automation adds to the desk's operations, one part each.

- rules: an inquiry-form submission (GET the form, POST it) with no active rule, and with 50
  active rules on the brand (45 that do not match, among them word, Korean, domain, tag and
  business-hours conditions, and 5 that do: tags, priority, a note), on the same instance in
  the same run, in alternating rounds so that drift hits both alike. The POST is timed in the
  process (the Flask test client: no network, no server queue), so the difference is what the
  rule bot costs. Prints p50/p95/p99 of each, the p95 difference and the ratio, against the
  budget (50 rules add less than 10 ms at p95).

Run it with `.venv/bin/python bench/automation.py` (SQLite; `--submissions 300` per setting,
`--rounds 6`), `--postgres` to create and drop a database `portal_bench_automation_<pid>` on
the local server, or `--database-url URL`; `--part rules` runs one part. It is a report: the
exit code is 0 whatever the numbers say. Each part is a function `part_<name>(app, args)`
listed in PARTS; main builds the instance once and runs the parts asked for.
"""

import argparse
import html
import os
import re
import sys
import time

from common import percentile, print_head, temporary_instance
from sqlalchemy import select, update

from kb import clock
from kb.models import Brand
from portal.desk.automation import events, rules
from portal.desk.automation.models import AutomationRule
from portal.desk.models import InquiryForm
from portal.extensions import db

BRAND, LOCALE = "hanbit-pay", "en"
RULES = 50
MATCHING = 5
BUDGET_MS = 10.0
INSTANCE_CONFIG = """\
SECRET_KEY = "bench-automation"
DATABASE_URL = {database_url!r}
PORTAL_SCHEDULER = "off"
INQUIRY_MIN_SECONDS = 0
INQUIRY_RATE_LIMIT = "1000000 per minute"
INQUIRY_EMAIL_RATE_LIMIT = "1000000 per minute"
"""

# ------------------------------------------------------------------ rules


def _non_matching(n: int) -> tuple[list, list]:
    """The conditions of the n-th rule that does not match a bench submission."""
    kinds = [
        [("text_contains", f"chargeback{n}")],
        [("subject_contains", f"환불{n}요청")],
        [("requester_domain_is", f"nowhere{n}.example")],
        [("tags_include", f"vip{n}")],
        [("text_contains", "invoice"), ("outside_business_hours", ""), ("priority_is", "urgent")],
        [("channel_is", "email"), ("body_contains", f"refunds {n}")],
    ]
    return kinds[n % len(kinds)], [("add_tags", f"never-{n}", "")]


def _matching(n: int) -> tuple[list, list]:
    actions = [
        [("add_tags", f"bench-{n}", "")],
        [("set_priority", "high", "")],
        [("add_note", "", f"Bench rule {n} was here")],
        [("set_type", "question", "")],
        [("add_tags", "bench", ""), ("set_priority", "high", "")],
    ]
    return [("text_contains", "benchmark"), ("channel_is", "web")], actions[n % len(actions)]


def make_rules(app) -> tuple[str, list[int]]:
    """55 rules on the brand, switched off: 50 that never match a bench submission, then 5
    that do; (the form page's path, their ids in that order)."""
    with app.app_context():
        brand = db.session.scalar(select(Brand).where(Brand.slug == BRAND))
        form = InquiryForm(  # the bench's own: no questions beyond subject and description
            brand_id=brand.id,
            listed=False,
            audience="everyone",
            names={"en": "Automation bench", brand.default_locale: "Automation bench"},
            descriptions={},
        )
        db.session.add(form)
        db.session.flush()
        form_id = form.id
        db.session.execute(
            update(AutomationRule)
            .where(AutomationRule.brand_id == brand.id)
            .values(active=False)  # the demo's own rule stays off throughout
        )
        ids = []
        for n in range(RULES + MATCHING):  # 50 that do not match, then 5 that do
            conditions, actions = _matching(n) if n >= RULES else _non_matching(n)
            draft = rules.Draft(
                name=f"Bench rule {n}",
                active=False,
                events=["ticket_created"],
                match="all",
                conditions=conditions,
                actions=actions,
            )
            ids.append(rules.save_rule(db.session, None, brand, None, draft, now=clock.now()).id)
        db.session.commit()
        db.session.remove()
    return f"/{BRAND}/{LOCALE}/requests/new?form={form_id}", ids


def switch(app, ids: list[int], active: bool) -> None:
    with app.app_context():
        db.session.execute(
            update(AutomationRule).where(AutomationRule.id.in_(ids)).values(active=active)
        )
        db.session.commit()
        db.session.remove()


def _hidden(page: str, name: str) -> str:
    match = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', page)
    return html.unescape(match[1]) if match else ""


_counter = iter(range(10**9))


def submit(client, path: str) -> float:
    """One submission; the POST's time in ms."""
    n = next(_counter)
    page = client.get(path).get_data(as_text=True)
    data = {
        "csrf_token": _hidden(page, "csrf_token"),
        "key": _hidden(page, "key"),
        "name": f"Visitor {n}",
        "email": f"visitor{n}@example.com",
        "subject": f"Automation bench request {n}",
        "description": "The app shows an error after I pay. This is a benchmark request.",
        "shown": _hidden(page, "shown"),
        "action": "send",
    }
    started = time.perf_counter()
    response = client.post(path, data=data)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 303:
        raise RuntimeError(f"the submission answered {response.status_code}")
    return elapsed


def part_rules(app, args) -> None:
    path, ids = make_rules(app)
    settings = {
        "no active rule": [],
        f"{RULES} not matching": ids[:RULES],
        f"{RULES - MATCHING} + {MATCHING} matching": ids[: RULES - MATCHING] + ids[RULES:],
    }
    client = app.test_client()
    per_round = max(1, args.submissions // args.rounds)
    for _ in range(10):  # warm-up: templates, analysers, connections
        submit(client, path)
    times: dict[str, list[float]] = {name: [] for name in settings}
    own: dict[str, list[float]] = {name: [] for name in settings}
    measured: list[float] = []

    def timed(session, event):  # the rule bot's own time, for each ticket made
        started = time.perf_counter()
        rules.on_event(session, event)
        if event.kind == events.TICKET_CREATED:
            measured.append((time.perf_counter() - started) * 1000)

    events.register("rules", timed)
    try:
        for round_ in range(args.rounds):
            names = list(settings) if round_ % 2 == 0 else list(reversed(settings))
            for name in names:
                switch(app, ids, False)
                switch(app, settings[name], True)
                measured.clear()
                times[name] += [submit(client, path) for _ in range(per_round)]
                own[name] += measured
    finally:
        events.register("rules", rules.on_event)
    switch(app, ids, False)

    def row(name: str, values: list[float]) -> str:
        figures = " ".join(f"{percentile(values, p):>8.2f}" for p in (50, 95, 99))
        return f"{name:<22} {len(values):>7,} {figures}"

    header = (
        f"{'setting':<22} {'posts':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
        f" {'+p95 ms':>8} {'ratio':>6} {'bot p50':>8} {'bot p95':>8}"
    )
    print_head(
        "Rule bot: form submissions (POST, in process), no rules vs 50 active rules",
        {
            "rules": f"{RULES} on {BRAND}, none matching; or {RULES - MATCHING} of them and "
            f"{MATCHING} that match (tags, priority, type, a note)",
            "rounds": f"{args.rounds} alternating rounds of {per_round} submissions per setting",
        },
        8,
        header,
    )
    base = percentile(times["no active rule"], 95)
    verdicts = []
    for name, values in times.items():
        p95 = percentile(values, 95)
        bot50, bot95 = percentile(own[name], 50), percentile(own[name], 95)
        print(
            f"{row(name, values)} {p95 - base:>+8.2f} {p95 / base:>6.3f}"
            f" {bot50:>8.2f} {bot95:>8.2f}"
        )
        if values is not times["no active rule"]:
            verdicts.append(
                f"{name}: {'PASS' if p95 - base < BUDGET_MS else 'FAIL'} "
                f"(bot p95 {'PASS' if bot95 < BUDGET_MS else 'FAIL'})"
            )
    print(
        f"+p95: the p95 difference to no active rule; bot: the time inside the rule bot "
        f"(rules.on_event) per ticket made; budget {BUDGET_MS:.0f} ms for 50 rules. "
        + "; ".join(verdicts)
        + ". The matching rules' actions are the agents' operations themselves (a note, "
        "property changes with their events and audit)."
    )


PARTS = {"rules": part_rules}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=sorted(PARTS), action="append", help="(every part)")
    parser.add_argument("--submissions", type=int, default=300, help="per setting (300)")
    parser.add_argument("--rounds", type=int, default=6, help="alternating rounds (6)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--postgres",
        action="store_true",
        help="create (and drop) a database portal_bench_automation_<pid> on 127.0.0.1:5432",
    )
    where.add_argument("--database-url", help="a database of your own (migrated, kept)")
    args = parser.parse_args()
    with temporary_instance(
        "portal-bench-automation-",
        config_py=INSTANCE_CONFIG,
        settings={"SEARCH_RECONCILE_ON_START": False},
        postgres=f"portal_bench_automation_{os.getpid()}" if args.postgres else None,
        database_url=args.database_url,
    ) as instance:
        for name in args.part or list(PARTS):
            PARTS[name](instance.app, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
