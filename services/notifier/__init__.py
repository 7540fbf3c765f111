"""The webhook notifier: consumes the broker's Kafka events and delivers signed webhooks.

Building blocks, each usable alone: `delivery` (one attempt, classified) and `schedule` (when
to try again); what it shares with the broker (signing,
receiver URL checks, secrets, the tables and events) is in `core`. It never imports the broker.
"""
