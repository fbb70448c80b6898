"""`up` over a running service whose definition changed prepares it again (fetching what
the new definition needs, a new jar, say) before replacing it; an unchanged one is left be.
On a supervisord of its own, in a scratch data dir."""

import socket
import sys
from pathlib import Path

import pytest

from infra.health import http_ok
from infra.progress import ProgressReporter, SilentProgress
from infra.services import ServiceSpec
from infra.settings import InfraSettings
from infra.stack import start_services
from infra.supervision import Supervisor

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_a_running_service_whose_definition_changed_is_prepared_before_it_is_replaced(
    tmp_path: Path,
) -> None:
    settings = InfraSettings(data_dir=tmp_path / "data")
    port = _free_port()
    prepared: list[str] = []

    def spec(version: str) -> ServiceSpec:
        def prepare(_progress: ProgressReporter) -> None:
            prepared.append(version)

        return ServiceSpec(
            name="web",
            command=lambda: [sys.executable, "-m", "http.server", str(port), "-b", "127.0.0.1"],
            address=f"http://127.0.0.1:{port}",
            health=http_ok(f"http://127.0.0.1:{port}/"),
            ports=(port,),
            env={"DEFINITION": version},
            cwd=tmp_path,
            prepare=prepare,
        )

    try:
        start_services(settings, [spec("first")], SilentProgress())
        start_services(settings, [spec("first")], SilentProgress())
        assert prepared == ["first"]
        start_services(settings, [spec("second")], SilentProgress())
        assert prepared == ["first", "second"]
    finally:
        Supervisor(settings).shutdown([])
