"""The embedded ledger: the transfer contract over SQLite with hash-chained blocks."""

from ledger_gateway.embedded.ledger import EmbeddedLedger, tx_id_for
from ledger_gateway.embedded.port_adapter import EmbeddedLedgerPort

__all__ = ["EmbeddedLedger", "EmbeddedLedgerPort", "tx_id_for"]
