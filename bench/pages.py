"""Page benchmark: help-center pages under gunicorn and wrk, beside a bare page of their size.

Loads the demo plus 20,000 generated articles into a temporary SQLite database, serves it with
gunicorn (2 sync workers), drives the home, section and article pages with wrk for a fixed time,
and prints requests/s, p50 and p99 beside a bare Flask + Jinja page of the article page's size
(bench/bare_app.py) served the same way in the same run, with the SQL queries each page makes,
counted with the demo alone and again with the generated articles.

Run it with `make bench`, or `.venv/bin/python bench/pages.py --duration 5`. Needs `wrk`
(Debian package `wrk`). It is a report: the exit code is 0 whatever the numbers say.
"""

import argparse
import math
import os
import random
import re
import shutil
import subprocess
import sys
import time
from datetime import timedelta
from urllib.parse import unquote

from common import Load, fetch, print_head, temporary_instance
from flask import Flask, has_request_context, url_for
from sqlalchemy import event, func, insert, select, text

from kb import clock, helpcenter
from kb.markdown import render as render_markdown
from kb.models import Article, ArticleLabel, Brand, Section, Translation
from kb.people import User
from kb.slugs import slugify
from portal import config
from portal.extensions import db

HOME_BRAND, HOME_LOCALE = "hanbit-pay", "ko"
RATIO_TARGET = 0.50
RATIO_PAGES = ("home", "article")
BATCH = 1000
WRK_ARGS = ("-t2", "-c8", "--latency", "--timeout", "30s")

# ------------------------------------------------------------------ generated content

TOPICS = {
    "ko": [
        "결제 수단 등록",
        "환불 요청",
        "가맹점 정산",
        "QR 결제",
        "본인인증",
        "비밀번호 재설정",
        "수수료와 한도",
        "앱 오류",
        "휴대폰 번호 변경",
        "세금계산서 발행",
    ],
    "en": [
        "payment methods",
        "refund requests",
        "merchant settlement",
        "QR payments",
        "identity checks",
        "password resets",
        "fees and limits",
        "app errors",
        "invoices",
        "direct debit",
    ],
    "ja": [
        "支払い方法の登録",
        "返金の申請",
        "加盟店の精算",
        "QR 決済",
        "本人確認",
        "パスワードの再設定",
        "手数料と上限額",
        "アプリのエラー",
        "電話番号の変更",
        "領収書",
    ],
    "sv": [
        "autogiro",
        "e-faktura",
        "flytt",
        "elavtal",
        "solceller",
        "strömavbrott",
        "fakturan",
        "BankID",
        "elpriset",
        "mätarställning",
    ],
}

TITLES = {
    "ko": {
        "guide": "{topic} 안내 ({n})",
        "faq": "{topic}은(는) 어떻게 하나요? ({n})",
        "notice": "[안내] {topic} 관련 변경 사항 ({n})",
        "event": "[이벤트] {topic} 캠페인 ({n})",
    },
    "en": {
        "guide": "A guide to {topic} ({n})",
        "faq": "How do {topic} work? ({n})",
        "notice": "Notice: changes to {topic} ({n})",
        "event": "Event: {topic} week ({n})",
    },
    "ja": {
        "guide": "{topic}のご案内 ({n})",
        "faq": "{topic}について教えてください ({n})",
        "notice": "【お知らせ】{topic}の変更について ({n})",
        "event": "【イベント】{topic}キャンペーン ({n})",
    },
    "sv": {
        "guide": "Guide: {topic} ({n})",
        "faq": "Hur fungerar {topic}? ({n})",
        "notice": "Information: ändringar för {topic} ({n})",
        "event": "Evenemang: {topic}-veckan ({n})",
    },
}

BODIES = {
    "en": """\
This guide explains {topic} step by step: what you need before you start, how to do it in the
app, what it costs and how long it takes, and what to do when something does not work.

## Before you start

- Make sure the app is updated to the latest version.
- Have your ID and the phone number registered to your account at hand.
- If you share the device with someone, sign out of their account first.

## Step by step

1. Open the app and tap **Menu** in the lower right corner.
2. Go to **Settings** and choose **{topic}**.
3. Check the details on the screen and tap **Continue**.
4. Confirm with your PIN or with fingerprint or face recognition.
5. When the confirmation message appears, you are done.

### If the button is greyed out

Some settings can only be changed once every 24 hours. Wait a day and try again, or
[contact us](https://example.com/support) if the problem continues.

## Processing times and fees

| Case | Processing time | Fee |
| --- | --- | --- |
| Weekdays | Immediately | Free |
| Weekends and holidays | Next business day | Free |
| Manual review | Up to 3 business days | Free |

## Common problems

- **The code never arrives.** Check the phone number and that messages from unknown senders
  are not blocked.
- **The app closes by itself.** Restart the phone, update the app and try again.
- **I see an error code.** Note the code (for example `E-{variant}04`) and send it to us.

> Tip: every change is listed under **Settings** and **Activity**.
""",
    "ko": """\
이 문서는 {topic} 방법을 단계별로 안내합니다. 시작하기 전에 준비할 것, 앱에서 진행하는 방법,
수수료와 처리 시간, 문제가 생겼을 때의 해결 방법을 확인하세요.

## 시작하기 전에

- 앱을 최신 버전으로 업데이트해 주세요.
- 신분증과 계정에 등록된 휴대폰을 준비해 주세요.
- 다른 사람과 기기를 함께 쓰고 있다면 먼저 그 계정에서 로그아웃해 주세요.

## 진행 방법

1. 앱을 열고 오른쪽 아래의 **전체 메뉴**를 누르세요.
2. **설정**에서 **{topic}** 항목을 선택하세요.
3. 화면의 내용을 확인한 뒤 **계속**을 누르세요.
4. 결제 비밀번호 또는 생체 인증으로 확인하세요.
5. 완료 메시지가 보이면 끝입니다.

### 버튼이 눌리지 않을 때

일부 설정은 24시간에 한 번만 바꿀 수 있습니다. 하루 뒤에 다시 시도하시거나, 문제가 계속되면
[고객센터](https://example.com/support)로 문의해 주세요.

## 처리 시간과 수수료

| 구분 | 처리 시간 | 수수료 |
| --- | --- | --- |
| 평일 | 즉시 | 무료 |
| 주말 및 공휴일 | 다음 영업일 | 무료 |
| 추가 심사 | 최대 3영업일 | 무료 |

## 자주 겪는 문제

- **인증번호가 오지 않아요.** 휴대폰 번호가 맞는지, 스팸 차단 설정이 되어 있지 않은지 확인하세요.
- **앱이 저절로 종료돼요.** 휴대폰을 재시작하고 앱을 업데이트한 뒤 다시 시도하세요.
- **오류 코드가 보여요.** 코드(예: `E-{variant}04`)를 적어 두었다가 문의할 때 알려 주세요.

> 도움말: 모든 변경 내역은 **설정** > **활동 내역**에서 확인할 수 있습니다.
""",
    "ja": """\
このガイドでは、{topic}の手順をご案内します。始める前に必要なもの、アプリでの操作方法、
手数料と処理時間、うまくいかないときの対処法をご確認ください。

## 始める前に

- アプリを最新バージョンに更新してください。
- 本人確認書類と、アカウントに登録した携帯電話をご用意ください。
- 端末をほかの方と共有している場合は、先にそのアカウントからログアウトしてください。

## 手順

1. アプリを開き、右下の **メニュー** をタップします。
2. **設定** から **{topic}** を選びます。
3. 画面の内容を確認し、**続ける** をタップします。
4. 暗証番号または生体認証で確認します。
5. 完了メッセージが表示されたら終了です。

### ボタンが押せないとき

一部の設定は 24 時間に 1 回しか変更できません。1 日おいてからもう一度お試しいただくか、
解決しない場合は [お問い合わせ](https://example.com/support) ください。

## 処理時間と手数料

| 区分 | 処理時間 | 手数料 |
| --- | --- | --- |
| 平日 | 即時 | 無料 |
| 土日祝日 | 翌営業日 | 無料 |
| 追加審査 | 最大 3 営業日 | 無料 |

## よくある問題

- **認証コードが届かない。** 電話番号と、迷惑メッセージのブロック設定をご確認ください。
- **アプリが勝手に終了する。** 端末を再起動し、アプリを更新してからもう一度お試しください。
- **エラーコードが表示される。** コード(例: `E-{variant}04`)を控えてお問い合わせください。

> ヒント: すべての変更履歴は **設定** > **アクティビティ** で確認できます。
""",
    "sv": """\
Den här guiden förklarar {topic} steg för steg: vad du behöver innan du börjar, hur du gör i
appen, vad det kostar och hur lång tid det tar, och vad du gör när något inte fungerar.

## Innan du börjar

- Se till att appen är uppdaterad till den senaste versionen.
- Ha ditt BankID och mätarnumret från din senaste faktura till hands.
- Om du delar enheten med någon, logga först ut från deras konto.

## Steg för steg

1. Öppna appen och tryck på **Meny** längst ned till höger.
2. Gå till **Inställningar** och välj **{topic}**.
3. Kontrollera uppgifterna och tryck på **Fortsätt**.
4. Bekräfta med BankID.
5. När bekräftelsen visas är du klar.

### Om knappen är grå

Vissa inställningar kan bara ändras en gång per dygn. Vänta en dag och försök igen, eller
[kontakta oss](https://example.com/support) om problemet kvarstår.

## Handläggningstid och avgifter

| Fall | Handläggningstid | Avgift |
| --- | --- | --- |
| Vardagar | Direkt | Ingen |
| Helger | Nästa vardag | Ingen |
| Manuell kontroll | Upp till 3 vardagar | Ingen |

## Vanliga problem

- **Koden kommer aldrig.** Kontrollera telefonnumret och att sms från okända avsändare inte
  blockeras.
- **Appen stängs av sig själv.** Starta om telefonen, uppdatera appen och försök igen.
- **Jag ser en felkod.** Anteckna koden (till exempel `E-{variant}04`) och skicka den till oss.

> Tips: alla ändringar listas under **Inställningar** och **Aktivitet**.
""",
}
BODY_VARIANTS = 3


def _rendered_bodies(locales) -> dict:
    """Each (locale, variant) body rendered once through kb.markdown, reused by every article."""
    bodies = {}
    for locale in locales:
        for variant in range(BODY_VARIANTS):
            source = BODIES[locale].format(topic=TOPICS[locale][variant], variant=variant + 1)
            bodies[locale, variant] = (source, render_markdown(source))
    return bodies


def generate_articles(session, count: int, seed: int = 20_000) -> None:
    """`count` published articles, a translation in each of its brand's locales, bulk-inserted.

    Spread round-robin over the demo brands' sections; sections that hold the demo's notices
    and events get notices and events, the others guides with one FAQ in five.
    """
    rng = random.Random(seed)
    now = clock.now()
    brands = {b.id: b for b in session.scalars(select(Brand))}
    sections = session.scalars(select(Section).order_by(Section.brand_id, Section.position)).all()
    news_kinds = Article.kind.in_(("notice", "event"))
    news = set(session.scalars(select(Article.section_id).where(news_kinds)))
    labels: dict[int, list[str]] = {brand_id: [] for brand_id in brands}
    used = select(Article.brand_id, ArticleLabel.name).join(Article).distinct()
    for brand_id, name in session.execute(used.order_by(ArticleLabel.name)):
        labels[brand_id].append(name)
    last = select(Article.section_id, func.max(Article.position)).group_by(Article.section_id)
    position = dict(session.execute(last).all())
    author_id = session.scalar(select(User.id).where(User.email == "editor@example.com"))
    bodies = _rendered_bodies({loc for b in brands.values() for loc in b.locales})
    first_id = (session.scalar(select(func.max(Article.id))) or 0) + 1
    minutes = 3 * 365 * 24 * 60

    for start in range(0, count, BATCH):
        articles, translations, article_labels = [], [], []
        for n in range(start, min(start + BATCH, count)):
            section = sections[n % len(sections)]
            brand = brands[section.brand_id]
            if section.id in news:
                kind = "notice" if n % 3 else "event"
            else:
                kind = "faq" if n % 5 == 0 else "guide"
            published = now - timedelta(minutes=rng.randrange(60, minutes))
            position[section.id] = position.get(section.id, 0) + 1
            article_id = first_id + n
            articles.append(
                {
                    "id": article_id,
                    "brand_id": brand.id,
                    "section_id": section.id,
                    "kind": kind,
                    "promoted": False,
                    "position": position[section.id],
                    "source_locale": brand.default_locale,
                    "event_at": published + timedelta(days=14) if kind == "event" else None,
                    "created_at": published,
                }
            )
            topic = rng.randrange(len(TOPICS["en"]))
            variant = n % BODY_VARIANTS
            for locale in brand.locales:
                title = TITLES[locale][kind].format(topic=TOPICS[locale][topic], n=article_id)
                source, rendered = bodies[locale, variant]
                translations.append(
                    {
                        "article_id": article_id,
                        "locale": locale,
                        "title": title,
                        "slug": slugify(title),
                        "body_md": source,
                        "body_html": rendered.html,
                        "toc": rendered.toc,
                        "status": "published",
                        "publish_at": published,
                        "unpublish_at": None,
                        "author_id": author_id,
                        "created_at": published,
                        "updated_at": published,
                    }
                )
            names = labels[brand.id]
            for name in rng.sample(names, k=min(len(names), rng.randint(0, 2))):
                article_labels.append({"article_id": article_id, "name": name})
        session.execute(insert(Article), articles)
        session.execute(insert(Translation), translations)
        if article_labels:
            session.execute(insert(ArticleLabel), article_labels)
    session.commit()


# ------------------------------------------------------------------ the pages and their queries


def page_paths(app: Flask) -> dict[str, str]:
    """Home, a section that the generated articles fill, and a demo article with a contents list."""
    with app.app_context(), app.test_request_context():
        session = db.session
        brand = helpcenter.brand_by_slug(session, HOME_BRAND)
        hc = helpcenter.HelpCenter(brand=brand, locale=HOME_LOCALE)
        now = clock.now()
        section_id = session.scalar(
            select(Section.id)
            .where(
                Section.brand_id == brand.id,
                ~Section.id.in_(
                    select(Article.section_id).where(Article.kind.in_(("notice", "event")))
                ),
            )
            .order_by(Section.id)
        )
        section, _category = helpcenter.section(session, hc, section_id)
        candidates = session.scalars(
            select(Translation)
            .join(Article)
            .where(Article.brand_id == brand.id, Translation.locale == HOME_LOCALE)
            .order_by(Article.id)
        ).all()
        best = max(candidates, key=lambda t: (len(t.toc), -t.article_id))
        view = helpcenter.article(session, hc, best.article_id, now)
        return {
            "home": url_for("helpcenter.home", brand=brand.slug, locale=hc.locale),
            "section": url_for(
                "helpcenter.section",
                brand=brand.slug,
                locale=hc.locale,
                id_slug=f"{section.id}-{section.slug}",
            ),
            "article": url_for(
                "helpcenter.article",
                brand=brand.slug,
                locale=hc.locale,
                id_slug=f"{view.article.id}-{view.translation.slug}",
            ),
        }


def count_queries(app: Flask, paths: dict[str, str]) -> dict[str, list[str]]:
    """The SQL statements of one request per page rendered afresh, after one warm-up request.

    The page cache is emptied before the counted request: the figure is for a page rendered
    from the database, not for a cache hit (which is one brand query).

    Only statements run inside the request count: the BrandHosts middleware's host lookup runs
    before it, once per host every BRAND_CACHE_SECONDS, whatever the page.
    """
    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def on_execute(_conn, _cursor, statement, _params, _context, _many):
        if has_request_context():
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        client = app.test_client()
        found = {}
        for name, path in paths.items():
            for _ in range(2):
                app.extensions["portal.pagecache"].clear()
                statements.clear()
                response = client.get(path)
                if response.status_code != 200:
                    raise RuntimeError(f"{name} page {path} answered {response.status_code}")
            found[name] = list(statements)
        return found
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)


# ------------------------------------------------------------------ load


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", value)
    if not match:
        raise ValueError(f"unexpected wrk time {value!r}")
    return float(match[1]) * _UNITS_MS[match[2]]


def parse_wrk(output: str) -> Load:
    def find(pattern: str) -> str:
        match = re.search(pattern, output, re.MULTILINE)
        if not match:
            raise ValueError(f"wrk output has no {pattern!r}:\n{output}")
        return match[1]

    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    return Load(
        rps=float(find(r"^Requests/sec:\s+([\d.]+)")),
        p50_ms=_ms(find(r"^\s+50%\s+(\S+)")),
        p95_ms=math.nan,  # wrk --latency gives 50/75/90/99% only
        p99_ms=_ms(find(r"^\s+99%\s+(\S+)")),
        requests=int(find(r"^\s+(\d+) requests in")),
        errors=errors + (int(non_2xx[1]) if non_2xx else 0),
    )


def run_wrk(wrk: str, url: str, duration: float) -> Load:
    # A long timeout: wrk leaves requests slower than it out of the latency figures.
    command = [wrk, *WRK_ARGS, f"-d{duration}s", url]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return parse_wrk(result.stdout)


# ------------------------------------------------------------------ the report


def report(args, paths, sizes, loads, demo_counts, full_counts, counts_text) -> None:
    bare = loads["bare"].rps
    title = (
        f"Portal pages: demo + {args.articles:,} generated articles ({counts_text}); "
        f"gunicorn -w 2 (sync); wrk {' '.join(WRK_ARGS)} -d{args.duration}s; 127.0.0.1"
    )
    sql_heading = f"SQL demo/{args.articles // 1000}k"
    header = (
        f"{'page':<8} {'bytes':>7} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'ratio':>6}"
        f" {sql_heading:>13} {'errors':>7}"
    )
    print_head(title, {name: unquote(path) for name, path in paths.items()}, 8, header)
    for name in ("bare", *paths, *(f"{p}*" for p in paths)):
        load = loads[name]
        sql = f"{len(demo_counts[name])}/{len(full_counts[name])}" if name in paths else "-"
        print(
            f"{name:<8} {sizes[name]:>7} {load.rps:>9.1f} {load.p50_ms:>8.2f} {load.p99_ms:>8.2f}"
            f" {load.rps / bare:>6.3f} {sql:>13} {load.errors:>7}"
        )
    print("* the same page with the page cache off (PORTAL_PAGE_CACHE=off): rendered every time")
    print()
    verdicts = []
    for name in RATIO_PAGES:
        ratio = loads[name].rps / bare
        verdicts.append(ratio >= RATIO_TARGET)
        print(
            f"{'PASS' if verdicts[-1] else 'FAIL'}  {name} page reaches {ratio:.1%} of the bare "
            f"page's requests/s (target >= {RATIO_TARGET:.0%})"
        )
    for name in paths:
        before, after = len(demo_counts[name]), len(full_counts[name])
        verdicts.append(after <= before)  # it must not grow with the number of articles
        print(
            f"{'PASS' if verdicts[-1] else 'FAIL'}  {name} page makes {after} SQL queries with "
            f"{args.articles:,} more articles, {before} with the demo alone"
        )
        if after > before:
            for statement in full_counts[name]:
                print("        " + " ".join(statement.split())[:150])
    print(f"{'PASS' if all(verdicts) else 'FAIL'}  overall")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per page (10)")
    parser.add_argument("--articles", type=int, default=20_000, help="articles to generate (20000)")
    args = parser.parse_args()
    wrk = shutil.which("wrk")
    if wrk is None:
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        return 1

    # No config.py: the gunicorn servers below get the database and key from the environment.
    with temporary_instance(
        "portal-bench-",
        settings={"SECRET_KEY": "bench"},
        announce="Building the database in {folder} ...",
    ) as instance:
        app = instance.app
        paths = page_paths(app)
        demo_counts = count_queries(app, paths)

        started = time.monotonic()
        with app.app_context():
            generate_articles(db.session, args.articles)
            db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            n_articles = db.session.scalar(select(func.count()).select_from(Article))
            n_translations = db.session.scalar(select(func.count()).select_from(Translation))
            db.session.remove()
            db.engine.dispose()
        print(
            f"Generated {args.articles:,} articles in {time.monotonic() - started:.1f} s "
            f"({n_articles:,} articles, {n_translations:,} translations in all)",
            flush=True,
        )
        full_counts = count_queries(app, paths)

        env = {k: v for k, v in os.environ.items() if k not in config.ENV_KEYS}
        env.update(DATABASE_URL=instance.database_url, SECRET_KEY="bench")
        target = "portal:create_app()"
        portal = instance.serve("portal", target, env, paths["home"])
        # The same app with its page cache off: every request renders from the database.
        uncached_env = dict(env, PORTAL_PAGE_CACHE="off")
        uncached = instance.serve("uncached", target, uncached_env, paths["home"])

        sizes = {}
        for name, path in paths.items():
            status, body = fetch(portal.base_url + path)
            if status != 200:
                raise RuntimeError(f"{name} page {path} answered {status} under gunicorn")
            sizes[name] = len(body)

        bare = instance.serve_bare(env, sizes["article"])
        sizes["bare"] = len(fetch(bare.base_url + "/")[1])

        targets = (
            {"bare": bare.base_url + "/"}
            | {n: portal.base_url + p for n, p in paths.items()}
            | {f"{n}*": uncached.base_url + p for n, p in paths.items()}
        )
        for name in paths:
            sizes[f"{name}*"] = sizes[name]
        loads = {}
        for name, url in targets.items():
            print(f"wrk: {name} for {args.duration} s ...", flush=True)
            run_wrk(wrk, url, 1)  # warm both workers: templates compiled, caches filled
            loads[name] = run_wrk(wrk, url, args.duration)

        counts_text = f"{n_articles:,} articles, {n_translations:,} translations"
        report(
            args,
            paths,
            sizes,
            loads,
            {"bare": [], **demo_counts},
            {"bare": [], **full_counts},
            counts_text,
        )
        return 0


if __name__ == "__main__":
    sys.exit(main())
