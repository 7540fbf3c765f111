"""The webhook notifier: consumes the broker's Kafka events and delivers signed webhooks.

Building blocks, each usable alone: `signing` (Standard Webhooks signatures and secrets),
`urls` (which receiver URLs are safe to call), `delivery` (one attempt, classified),
`schedule` (when to try again) and `limits` (per-endpoint concurrency).
"""
