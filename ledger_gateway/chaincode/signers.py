"""The identity rule every contract host applies before the contract runs (pure): a command
is signed by the member that hosts its actor's organisation, and by no one else."""

from schemas import Actor
from schemas.network import Network

from ledger_gateway.chaincode.errors import WrongSigner


def check_signer(network: Network, signer: str, actor: Actor) -> None:
    if signer not in network.members:
        raise WrongSigner(f"{signer} is not a member of the network")
    host = network.host_of(actor.org)
    if host is None:
        raise WrongSigner(f"no member hosts {actor.org}")
    if host != signer:
        raise WrongSigner(f"a command of {actor.org} must be signed by {host}, not by {signer}")
