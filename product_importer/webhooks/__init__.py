"""Webhooks: endpoints admins configure, and signed, retried, logged delivery of events.

- `endpoints`   CRUD of endpoints and their signing secrets (rotation keeps the old one 24 h)
- `signing`     Standard Webhooks signatures (`webhook-id`, `webhook-timestamp`,
                `webhook-signature`)
- `addresses`   the SSRF guard: which hosts a webhook may target
- `sender`      one HTTP attempt, pinned to the address the guard checked
- `fanout`      the outbox relay's work: one delivery per (event, subscribed endpoint)
- `delivery`    an attempt's bookkeeping: retries, Retry-After, 410, auto-disable
- `deliveries`  the delivery log, redelivery and the synchronous test
- `relay`       the LISTEN loop inside every worker process
- `actors`      the Dramatiq actor that sends one delivery
"""
