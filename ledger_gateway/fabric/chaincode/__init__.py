"""The transfer contract served to Fabric peers as chaincode-as-a-service (our own shim)."""
