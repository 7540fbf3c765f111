"""The transactional outbox's relay: events commit with the change they describe
(`core.outbox.record_event`, in the caller's transaction); the `OutboxRelay` running in the broker
(or `cdo-broker relay`) sends committed rows to the CONTRACT's Kafka topics as CloudEvents and
marks them sent. See `relay` for the guarantees.
"""
