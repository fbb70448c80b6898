"""The Applications Server (``python -m producers``): the REST API for HPA, PA and ops,
token checks, and the publishing of validated commands onto Kafka."""
