"""Webhooks: a job's outcome POSTed to its callback_url, signed in the Standard Webhooks format.

addresses.py   which URLs the service will call (scheme, resolved addresses)
sender.py      one signed attempt, connected to the address that was checked
signing_secrets.py  each user's signing secret (whsec_...), encrypted at rest
deliveries.py  a job's delivery in Redis: opened once per outcome, attempts, schedule
"""
