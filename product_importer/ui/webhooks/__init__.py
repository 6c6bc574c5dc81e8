"""The Webhooks page (admins): endpoints, their form and secret, tests and the delivery
log (state.py: the state; rows.py: what the tables draw; page.py, endpoints.py,
dialogs.py, delivery_log.py: the views)."""
