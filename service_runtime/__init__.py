"""What every service process runs on: the durable Kafka producer, the consume-and-commit
loop with its retry policy and dead letters, the follow-from-the-end reader, token checks,
the settings base, logging, the health/metrics app and topic creation.

It imports only ``schemas`` and libraries; the services build on it, never the reverse.
"""
