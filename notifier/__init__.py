"""Live notifications: ledger-confirmed changes pushed over ``WS /v1/notifications`` to
the parties of each transfer, in their language. Served by the Applications Server's
process for now."""
