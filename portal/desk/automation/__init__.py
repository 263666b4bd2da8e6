"""Automation: what runs by itself when tickets change (rules, notifications, webhooks) or as
time passes (schedules). Everything it does goes through the desk's own operations, as a Bot
(portal.desk.actors)."""
