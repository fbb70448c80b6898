"""Fetch, configure, start, health-check and stop the local services under supervisord."""
