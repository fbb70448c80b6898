"""The bus's authentication and authorisation, kept as ``principals`` says on every `up`:
a SCRAM-SHA-512 credential per principal (passwords generated per installation, 0600 in
the data directory) and exactly the ACLs of the grant table (others are removed)."""

from collections.abc import Iterable
from typing import Any

from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialAlteration,
    UserScramCredentialUpsertion,
)

from infra.kafka.principals import Grant, Operation, Resource, grants, principals
from infra.secrets import installation_secret
from infra.settings import InfraSettings
from service_runtime.kafka_access import KafkaAccess

# The broker's own principals: super users, authenticated with PLAIN from the broker's
# static configuration, so they exist before any SCRAM credential does.
BROKER_USER = "broker"
CONTROLLER_USER = "controller"
SCRAM_ITERATIONS = 8192
_TIMEOUT_S = 30.0
_RESOURCES = {Resource.TOPIC: ResourceType.TOPIC, Resource.GROUP: ResourceType.GROUP}
_OPERATIONS = {
    Operation.READ: AclOperation.READ,
    Operation.WRITE: AclOperation.WRITE,
    Operation.CREATE: AclOperation.CREATE,
    Operation.DELETE: AclOperation.DELETE,
}


def kafka_password(settings: InfraSettings, principal: str) -> str:
    return installation_secret(settings, f"kafka-{principal}")


def kafka_access(settings: InfraSettings, principal: str) -> KafkaAccess:
    """How ``principal`` reaches this installation's broker."""
    return KafkaAccess(settings.kafka_bootstrap, principal, kafka_password(settings, principal))


def broker_admin_access(settings: InfraSettings) -> KafkaAccess:
    return KafkaAccess(
        settings.kafka_bootstrap,
        BROKER_USER,
        kafka_password(settings, BROKER_USER),
        mechanism="PLAIN",
    )


def _admin(settings: InfraSettings) -> AdminClient:
    return AdminClient(
        {
            "bootstrap.servers": settings.kafka_bootstrap,
            "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanism": "PLAIN",
            "sasl.username": BROKER_USER,
            "sasl.password": kafka_password(settings, BROKER_USER),
            "log_level": 3,
        }
    )


def _binding(grant: Grant) -> AclBinding:
    return AclBinding(
        _RESOURCES[grant.resource],
        grant.name,
        ResourcePatternType.PREFIXED if grant.prefixed else ResourcePatternType.LITERAL,
        f"User:{grant.principal}",
        "*",
        _OPERATIONS[grant.operation],
        AclPermissionType.ALLOW,
    )


def _key(binding: AclBinding) -> tuple[Any, ...]:
    return (
        binding.restype,
        binding.name,
        binding.resource_pattern_type,
        binding.principal,
        binding.host,
        binding.operation,
        binding.permission_type,
    )


def _wait(futures: Iterable[Any]) -> None:
    for future in futures:
        future.result(timeout=_TIMEOUT_S)


def secure_bus(settings: InfraSettings) -> tuple[int, int]:
    """Upserts every principal's credential and makes the ACLs exactly the table's;
    returns (ACLs created, ACLs removed)."""
    admin = _admin(settings)
    network = settings.network
    upserts: list[UserScramCredentialAlteration] = [
        UserScramCredentialUpsertion(
            principal,
            ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, SCRAM_ITERATIONS),
            kafka_password(settings, principal).encode(),
        )
        for principal in principals(network)
    ]
    _wait(admin.alter_user_scram_credentials(upserts).values())
    wanted = {_key(b): b for b in map(_binding, grants(network))}
    # None matches anything; the stubs type these arguments as str only.
    every = AclBindingFilter(
        ResourceType.ANY,
        None,  # type: ignore[arg-type]
        ResourcePatternType.ANY,
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        AclOperation.ANY,
        AclPermissionType.ANY,
    )
    existing = {_key(b): b for b in admin.describe_acls(every).result(timeout=_TIMEOUT_S)}
    missing = [b for k, b in wanted.items() if k not in existing]
    stale = [b for k, b in existing.items() if k not in wanted]
    if missing:
        _wait(admin.create_acls(missing).values())
    if stale:
        filters = [
            AclBindingFilter(
                b.restype,
                b.name,
                b.resource_pattern_type,
                b.principal,
                b.host,
                b.operation,
                b.permission_type,
            )
            for b in stale
        ]
        _wait(admin.delete_acls(filters).values())
    return len(missing), len(stale)
