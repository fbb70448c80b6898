"""The ledger gateway (``python -m ledger_gateway``), one per organisation: submits ledger
commands, streams committed transactions to Kafka, and serves that organisation's
Blockchain API; ``chaincode/`` holds the transfer contract, the one place rules are enforced."""
