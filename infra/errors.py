"""Errors raised while bringing the local stack up or down.

InfraError
 +-- ToolMissing          java >= 17 or mvn is not available
 +-- FetchFailed          Maven could not fetch the Kafka runtime jars
 +-- StorageFormatFailed  Kafka's StorageTool refused to format the log dir
 +-- PortInUse            a port a service needs is held by a foreign process
 +-- SupervisorFailed     supervisord did not start, answer or stop
 +-- ServiceFailed        a service exited or was not healthy before the deadline
 +-- UnknownService       a name that is not in the service registry
 +-- FabricCommandFailed  a Fabric command (cryptogen, peer, osnadmin...) failed
 +-- Unhealthy            a probe reached a service but it did not report itself healthy
"""


class InfraError(Exception):
    """Root of every error the infra package raises."""


class ToolMissing(InfraError):
    """A program the stack needs (java, mvn) is missing or too old."""


class FetchFailed(InfraError):
    """Fetching runtime artefacts failed."""


class StorageFormatFailed(InfraError):
    """Formatting Kafka's KRaft storage failed."""


class PortInUse(InfraError):
    """A port a service binds is already held by a process we do not supervise."""


class SupervisorFailed(InfraError):
    """supervisord could not be started, reached or shut down."""


class ServiceFailed(InfraError):
    """A service exited, or did not become healthy before its deadline."""


class UnknownService(InfraError):
    """The name matches no registered service."""


class FabricCommandFailed(InfraError):
    """A Fabric command (cryptogen, configtxgen, peer, osnadmin) exited with an error."""


class Unhealthy(InfraError):
    """A probe reached the service but it did not report itself healthy."""
