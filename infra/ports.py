"""Finding out whether a TCP port is free and, if not, who holds it."""

import errno
import socket

import psutil

from infra.errors import PortInUse


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # SO_REUSEADDR so a port left in TIME_WAIT by a stopped service counts as free;
        # a listening socket still makes bind fail.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return False
            raise
    return True


def listening_pid(port: int) -> int | None:
    """The pid listening on `port`, when the OS lets us see it."""
    try:
        connections = psutil.net_connections(kind="inet")
    except psutil.AccessDenied:
        return None
    for connection in connections:
        if (
            connection.status == psutil.CONN_LISTEN
            and connection.laddr
            and connection.laddr.port == port
            and connection.pid is not None
        ):
            return connection.pid
    return None


def describe_process(pid: int) -> str:
    try:
        process = psutil.Process(pid)
        command = " ".join(" ".join(process.cmdline()).split()) or process.name()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return f"pid {pid}"
    if len(command) > 160:
        command = command[:157] + "..."
    return f"pid {pid}: {command}"


def ensure_ports_free(service: str, host: str, ports: tuple[int, ...]) -> None:
    """Raises PortInUse naming the port and its holder; called only while our program is down,
    so whoever holds the port is not a process we supervise."""
    for port in ports:
        if port_is_free(host, port):
            continue
        holder = listening_pid(port)
        who = describe_process(holder) if holder is not None else "a process we cannot identify"
        raise PortInUse(
            f"cannot start {service}: port {host}:{port} is already in use by {who}. "
            "Stop that process or configure another port (CUREX_* environment variables)."
        )
