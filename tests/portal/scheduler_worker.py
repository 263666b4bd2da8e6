"""One app process for the two-process scheduler test: bids for the lease, logs what it does.

Usage: scheduler_worker.py NAME LOG_FILE INSTANCE_DIR DATABASE_URL

Each line of LOG_FILE is "<unix time> <NAME> <message>": the scheduler's own log lines
("... is leading", "... stopped leading") and "handled <translation id> <action>" for each
side effect this process ran. SIGTERM exits cleanly (atexit releases the lease).
"""

import logging
import signal
import sys
import time


def main() -> None:
    name, log_file, instance, url = sys.argv[1:5]
    out = logging.FileHandler(log_file)
    out.setFormatter(logging.Formatter(f"%(created).3f {name} %(message)s"))
    for logger_name in ("portal.jobs", "kb.publishing"):
        logger = logging.getLogger(logger_name)
        logger.setLevel(logging.INFO)
        logger.addHandler(out)
    worker = logging.getLogger("scheduler_worker")
    worker.setLevel(logging.INFO)
    worker.addHandler(out)

    from portal import create_app, jobs

    app = create_app(
        {
            "INSTANCE_PATH": instance,
            "SECRET_KEY": "scheduler-test",
            "DATABASE_URL": url,
            "SCHEDULER_ENABLED": True,
            # Short, yet long enough that a worker stalled a few seconds by a busy machine
            # (two test suites side by side on two cores) keeps its lease.
            "SCHEDULER_LEASE_SECONDS": 4,
            "SCHEDULER_RENEW_SECONDS": 0.5,
            # Long enough that a prompt run can only come from the one-shot job at the due time.
            "SCHEDULER_INTERVAL_SECONDS": 300,
        }
    )

    def record(_session, event) -> None:
        worker.info("handled %s %s", event.translation_id, event.action)

    jobs.add_handler(app, record)
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(0))
    worker.info("started")
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
