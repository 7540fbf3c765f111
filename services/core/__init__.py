"""What the broker and the notifier share, and nothing else: settings, the database kit and every
table (`models`), the event contracts and the topic list, Kafka's producer, telemetry, the
supervisor of background loops, health checks, and webhook signing, URL checks and secrets.

It imports neither service (an import-linter contract in pyproject.toml holds it so)."""
