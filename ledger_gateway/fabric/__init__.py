"""The Fabric ledger: our chaincode shim, the Gateway client and the ledger port adapter."""
