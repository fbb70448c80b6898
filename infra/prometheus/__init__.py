"""Monitoring of the local stack: Debian's Prometheus, scraping every project service, with
the alerting and recording rules in ``rules.yml``; ``dashboard.json`` is the same metrics
for sites that run Grafana."""
