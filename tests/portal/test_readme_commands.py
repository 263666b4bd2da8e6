"""Every `flask --app portal ...` command the README shows works as shown."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FLASK = Path(sys.executable).with_name("flask")
# Long-running commands (servers, a foreground scheduler) or ones that write into the
# checkout's instance folder are started with --help: that loads the app just the same.
HELP_ONLY = {
    "mail sink",
    "mail receive",
    "scheduler run",
    "search reindex",
    "demo",
    "brand jwt-secret",
    "admin create",
}
# These sign links in the mail they send: the README says they need the server's key.
SIGNING = {"mail send", "mail fetch", "scheduler run-once"}


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    found = re.findall(r"`((?:[A-Z_]+=\S+ )*flask --app portal [^`\[<]+)", text)
    return sorted({" ".join(c.split()) for c in found})


def test_the_readme_shows_the_commands_checked_here():
    commands = readme_commands()
    for shown in ("mail sink", "mail send", "scheduler status", "search check", "demo"):
        assert any(c.endswith(f"flask --app portal {shown}") for c in commands), shown


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    """A migrated database (`flask db upgrade`, as the README shows it) for the commands."""
    url = f"sqlite:///{tmp_path_factory.mktemp('readme')}/portal.db"
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "PORTAL_ENV")}
    env.update(DATABASE_URL=url, PYTHONWARNINGS="ignore")
    done = subprocess.run(
        [FLASK, "--app", "portal", "db", "upgrade"], env=env, cwd=ROOT, capture_output=True
    )
    assert done.returncode == 0, done.stderr
    return url


@pytest.mark.parametrize("command", readme_commands())
def test_every_readme_command_works_as_shown_without_a_secret_key(command, database):
    """Issue 15 item 20: `flask --app portal mail sink` failed with "ConfigError: SECRET_KEY is
    not set" unless PORTAL_ENV=development; commands that sign nothing need no key."""
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "PORTAL_ENV")}
    env["DATABASE_URL"] = database
    env["PYTHONWARNINGS"] = "ignore"
    words = command.split()
    while "=" in words[0]:
        name, _, value = words.pop(0).partition("=")
        env[name] = value
    args = words[1:]
    shown = " ".join(args[2:])
    if shown in HELP_ONLY:
        args = [*args, "--help"]

    def run():
        done = subprocess.run(
            [FLASK, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
        )
        output = done.stdout + done.stderr
        assert "ConfigError" not in output and "Traceback" not in output, output
        return done.returncode, output

    if shown in SIGNING:
        code, output = run()
        assert code == 1 and "Error: SECRET_KEY is not set" in output  # one clear line
        env["SECRET_KEY"] = "the-servers-key"
    code, output = run()
    # `search check` answers 1 when it finds the index missing or stale: that is its report.
    assert code == 0 or (shown == "search check" and "reindex" in output), output
