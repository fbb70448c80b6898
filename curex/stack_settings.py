"""Settings for acting as a service of the running stack (the bench, the demo, tests):
the same per-installation secrets `curex up` handed the services."""

from infra.kafka.principals import APPLICATIONS_SERVER
from infra.kafka.security import kafka_password
from infra.postgres.server import database_url
from infra.secrets import client_secret, ledger_access, pseudonym_key
from infra.settings import InfraSettings
from processors.settings import ProcessorSettings
from producers.api.settings import ApiSettings, LedgerAccess


def processor_settings(stack: InfraSettings) -> ProcessorSettings:
    return ProcessorSettings(
        data_dir=stack.data_dir, pseudonym_key=pseudonym_key(stack), network=stack.network
    )


def api_settings(stack: InfraSettings) -> ApiSettings:
    return ApiSettings(
        data_dir=stack.data_dir,
        pseudonym_key=pseudonym_key(stack),
        keycloak_url=stack.keycloak_url,
        api_port=stack.api_port,
        admin_client_secret=client_secret(stack, "applications-server"),
        ledger_access={
            org: LedgerAccess.model_validate(access) for org, access in ledger_access(stack).items()
        },
        database_url=database_url(stack),
        kafka_bootstrap=stack.kafka_bootstrap,
        kafka_username=APPLICATIONS_SERVER,
        kafka_password=kafka_password(stack, APPLICATIONS_SERVER),
        network=stack.network,
        notifications_url=stack.notifications_url,
        prometheus_url=stack.prometheus_url,
    )
