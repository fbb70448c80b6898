"""Pushes ledger-confirmed changes to HPA/PA clients (next issue)."""
