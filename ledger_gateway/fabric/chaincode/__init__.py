"""The chaincode server (``python -m ledger_gateway.fabric.chaincode``, one per
organisation): the transfer contract served to its peer as chaincode-as-a-service, on our
own shim (replay engine, session protocol, server)."""
