"""Configuring, formatting and launching the single-node KRaft Kafka broker.

Every listener authenticates (SASL over loopback): clients with SCRAM-SHA-512, the broker
and controller themselves with PLAIN from this configuration (so they need no credential
in the metadata log they are still loading), and the StandardAuthorizer denies whatever
no ACL allows. A PLAINTEXT controller listener would make ``User:ANONYMOUS`` a super user,
so none is configured. The file holds the broker's passwords: it is written 0600.
"""

import base64
import subprocess
import uuid
from pathlib import Path

from infra.errors import StorageFormatFailed
from infra.java import find_java
from infra.kafka.jars import KAFKA_RESOURCES, fetch_kafka_jars, kafka_jars_dir
from infra.kafka.metrics import fetch_jmx_exporter, javaagent_option
from infra.kafka.security import BROKER_USER, CONTROLLER_USER, kafka_password
from infra.progress import ProgressReporter
from infra.settings import InfraSettings

_LOG4J_CONFIG = KAFKA_RESOURCES / "log4j2.properties"
# The heap and the garbage-collector settings of Kafka's own start script.
_JVM_OPTIONS = (
    "-Xms768m",
    "-Xmx768m",
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-Djava.awt.headless=true",
)


def server_properties_path(settings: InfraSettings) -> Path:
    return settings.config_dir / "kafka-server.properties"


def _plain_jaas(user: str, password: str) -> str:
    return (
        "org.apache.kafka.common.security.plain.PlainLoginModule required "
        f'username="{user}" password="{password}" user_{user}="{password}";'
    )


def server_properties(settings: InfraSettings) -> str:
    host = settings.kafka_host
    controller = f"{host}:{settings.kafka_controller_port}"
    broker_password = kafka_password(settings, BROKER_USER)
    controller_password = kafka_password(settings, CONTROLLER_USER)
    lines = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.bootstrap.servers": controller,
        "listeners": f"CLIENT://{settings.kafka_bootstrap},CONTROLLER://{controller}",
        "advertised.listeners": f"CLIENT://{settings.kafka_bootstrap}",
        "controller.listener.names": "CONTROLLER",
        "listener.security.protocol.map": "CLIENT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT",
        "inter.broker.listener.name": "CLIENT",
        "sasl.mechanism.inter.broker.protocol": "PLAIN",
        "sasl.mechanism.controller.protocol": "PLAIN",
        "listener.name.client.sasl.enabled.mechanisms": "SCRAM-SHA-512,PLAIN",
        "listener.name.client.scram-sha-512.sasl.jaas.config": (
            "org.apache.kafka.common.security.scram.ScramLoginModule required;"
        ),
        # PLAIN on the client listener knows only the broker's own user.
        "listener.name.client.plain.sasl.jaas.config": _plain_jaas(BROKER_USER, broker_password),
        "listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
        "listener.name.controller.plain.sasl.jaas.config": _plain_jaas(
            CONTROLLER_USER, controller_password
        ),
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "allow.everyone.if.no.acl.found": "false",
        "super.users": f"User:{BROKER_USER};User:{CONTROLLER_USER}",
        "log.dirs": str(settings.kafka_data_dir),
        "offsets.topic.replication.factor": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
        # Sized for a small machine: the defaults (3 network, 8 I/O threads) only add
        # context switches on two cores.
        "num.network.threads": "2",
        "num.io.threads": "2",
    }
    return "".join(f"{key}={value}\n" for key, value in lines.items())


def write_server_properties(settings: InfraSettings) -> Path:
    path = server_properties_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text(server_properties(settings))
    return path


def new_cluster_id() -> str:
    """A cluster id in Kafka's own form: a random UUID, base64url without padding."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        # Kafka rejects ids starting with "-" because they read as command-line flags.
        if not cluster_id.startswith("-"):
            return cluster_id


def _classpath(settings: InfraSettings) -> str:
    # The JVM expands "dir/*" itself, so no shell is needed to glob the jars.
    return f"{kafka_jars_dir(settings)}/*"


def format_storage(settings: InfraSettings, java: Path, progress: ProgressReporter) -> None:
    """Formats the KRaft log dir once; a formatted dir (meta.properties) keeps its data."""
    if (settings.kafka_data_dir / "meta.properties").is_file():
        return
    progress.stage("Formatting Kafka storage")
    config = write_server_properties(settings)
    completed = subprocess.run(
        [
            str(java),
            "-cp",
            _classpath(settings),
            f"-Dlog4j2.configurationFile={_LOG4J_CONFIG}",
            "kafka.tools.StorageTool",
            "format",
            "-t",
            new_cluster_id(),
            "-c",
            str(config),
            "--standalone",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    if completed.returncode != 0:
        output = (completed.stdout + completed.stderr).strip()
        raise StorageFormatFailed(
            f"kafka StorageTool format exited {completed.returncode}: {output}"
        )


def prepare_kafka(settings: InfraSettings, progress: ProgressReporter) -> None:
    """Fetches the jars and the metrics agent when missing, writes the broker config and
    formats storage once."""
    java = find_java()
    fetch_kafka_jars(settings, progress)
    fetch_jmx_exporter(settings, progress)
    write_server_properties(settings)
    format_storage(settings, java, progress)


def kafka_command(settings: InfraSettings) -> list[str]:
    return [
        str(find_java()),
        *_JVM_OPTIONS,
        javaagent_option(settings),
        "-cp",
        _classpath(settings),
        f"-Dlog4j2.configurationFile={_LOG4J_CONFIG}",
        "kafka.Kafka",
        str(server_properties_path(settings)),
    ]
