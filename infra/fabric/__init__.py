"""The local Hyperledger Fabric network: binaries built from the Go module proxy, crypto
material, the orderer, peers and chaincode servers, and the channels' set-up."""
