"""The Applications Server: FastAPI routes over the publishing API and the read model."""
