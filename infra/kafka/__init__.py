"""The local Kafka broker: its jars from Maven Central, its KRaft storage and start-up."""
