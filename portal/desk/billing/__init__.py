"""Billing: plans, subscriptions, monthly statements and the SLA (issue 20). Money is kept in
integer minor units (won, öre, cents); portal.desk.billing.money says how it is rounded."""
