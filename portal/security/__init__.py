"""Administration and security of the organization: the audit and system log, staff two-factor
sign-in, the organization's security settings."""
