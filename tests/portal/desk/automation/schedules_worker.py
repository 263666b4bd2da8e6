"""One app process running the brands' schedules once, for the two-process exactly-once test.

Usage: schedules_worker.py INSTANCE_DIR DATABASE_URL NOW_ISO START_AT

Waits until the unix time START_AT (so that two workers start together), runs
portal.desk.automation.schedules.run_schedules at NOW_ISO and prints "fired skipped not_due".
"""

import sys
import time
from datetime import datetime


def main() -> None:
    instance, url, now, start_at = sys.argv[1:5]
    from portal import create_app
    from portal.desk.automation import schedules
    from portal.extensions import db

    app = create_app(
        {"INSTANCE_PATH": instance, "SECRET_KEY": "schedules-test", "DATABASE_URL": url}
    )
    with app.app_context():
        db.session.execute(db.select(1))  # connected before the start
        db.session.rollback()
        time.sleep(max(0.0, float(start_at) - time.time()))
        summary = schedules.run_schedules(db.session, datetime.fromisoformat(now))
        print(summary.fired, summary.skipped, summary.not_due, flush=True)


if __name__ == "__main__":
    main()
