"""Errors of ``curex bench``.

BenchError
 └── every failure that stops a benchmark run (a service down, a Kafka error, a
     setup the ledger never committed); a missed target is a figure, never an error.
"""


class BenchError(Exception):
    """The benchmark could not run to the end."""
