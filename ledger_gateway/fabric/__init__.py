"""The Fabric ledger: the Gateway client and the ledger port adapter the gateway uses, and
the chaincode server the peers dial (``chaincode/``)."""
