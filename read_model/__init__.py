"""The read model: the one owner of the transfer documents' shape, the projector process
that writes them from committed ledger blocks (``python -m read_model``), and the queries
the Applications Server and the notifier answer from."""
