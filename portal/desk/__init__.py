"""The help-desk domain: accounts, organizations, tickets and mail; no request objects here."""
