"""The embedded ledger: the transfer contract over SQLite with hash-chained blocks."""

from ledger_gateway.embedded.ledger import EmbeddedLedger, tx_id_for

__all__ = ["EmbeddedLedger", "tx_id_for"]
