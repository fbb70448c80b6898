"""`curex bench notify`: committed change → WebSocket client, with N clients connected.

N clients are connected (in a separate process, ``notify_clients``): R of them as the
patient whose transfers change (the recipients; all N by default, the worst case), the
rest as another patient, who must receive nothing of it. A professional creates emergency
transfers at a fixed rate, each bringing four changes to every recipient. Beside it, in
the same run, a bare Kafka reader of ``curex.ledger.blocks`` measures the same changes:
the floor no notifier can beat. Delays are from each ledger transaction's timestamp, on
this machine's one clock.
"""

import asyncio
import contextlib
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import orjson
from pydantic import ValidationError

from curex.bench.errors import BenchError
from curex.bench.latency import Percentiles, percentiles
from curex.bench.rss import RssSampler
from curex.block_watch import BlockWatcher
from curex.bus import observer_access, open_bus
from curex.demo import HOME, TREATING, seed_demo_organisations
from curex.errors import ApiError, WaitTimedOut
from curex.rest_client import ApplicationsClient, password_token
from curex.stack_settings import processor_settings
from infra.settings import InfraSettings
from processors.records import LocalRecordsStore
from schemas import LEDGER_REPORT, TransactionCommitted
from schemas.topics import LEDGER_BLOCKS
from service_runtime.follower import TopicFollower

PATIENT = ("patient.es", "ES-1000001", "ES-SERMAS")
BYSTANDER = "patient.se"  # a patient of the other organisation, party to none of it
PROFESSIONAL = "doctor.ki"
DEMO_PASSWORD = "demo-password"
CHANGES_PER_TRANSFER = 4  # INITIALISED, RISK_ACCEPTED, EMERGENCY_BYPASS, DATA_AVAILABLE
# Below this a delay is not a measurement but clock trouble: the run is refused.
_NEGATIVE_TOLERANCE_S = -0.005


@dataclass(frozen=True, slots=True)
class NotifyBenchOptions:
    clients: int
    recipients: int | None = None  # None: every client is the recipient patient
    transfers: int = 10
    rate: float = 25.0  # creates/s: four changes each, so 100 changes/s
    deadline_s: float = 120.0


@dataclass(frozen=True, slots=True)
class NotifyBenchResult:
    clients: int
    recipients: int  # connected as the recipient patient
    bystander_frames: int  # frames about the bench's transfers that reached a bystander
    connected: int
    held: int
    expected: int
    received: int
    closed: dict[str, int]
    delivery: Percentiles | None
    baseline: Percentiles | None
    notifier_rss_bytes: int
    refused: dict[str, int] = field(default_factory=dict)

    @property
    def dropped(self) -> int:
        return self.expected - self.received


class _BlockTimes:
    """The bare Kafka reader: when each transaction of the bench's transfers arrived."""

    def __init__(self) -> None:
        self.delays: dict[str, float] = {}
        self.per_transfer: dict[str, int] = {}

    def record(self, report: TransactionCommitted, arrived: float) -> None:
        if report.result.transfer is None or report.tx_id in self.delays:
            return
        self.delays[report.tx_id] = arrived - report.occurred_at.timestamp()
        tid = report.correlation_id
        self.per_transfer[tid] = self.per_transfer.get(tid, 0) + 1


async def _follow(follower: TopicFollower, times: _BlockTimes) -> None:
    async for records in follower.batches(max_records=1000):
        arrived = time.time()
        for record in records:
            try:
                report = LEDGER_REPORT.validate_json(record.value or b"")
            except ValidationError:
                continue
            if isinstance(report, TransactionCommitted):
                times.record(report, arrived)


async def _line(process: asyncio.subprocess.Process, within_s: float) -> dict[str, object]:
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), within_s)
    if not line:
        raise BenchError(f"the clients' process exited ({await process.wait()})")
    figures: dict[str, object] = orjson.loads(line)
    return figures


class NotifyBench:
    def __init__(
        self,
        settings: InfraSettings,
        notifier_pid: int,
        options: NotifyBenchOptions,
        log: Callable[[str], None],
    ) -> None:
        self._settings = settings
        self._pid = notifier_pid
        self._options = options
        self._log = log

    @property
    def _recipients(self) -> int:
        options = self._options
        return options.clients if options.recipients is None else options.recipients

    async def _start_clients(
        self, token: str, bystander_token: str | None
    ) -> asyncio.subprocess.Process:
        env = {**os.environ, "CUREX_BENCH_TOKEN": token}
        if bystander_token is not None:
            env["CUREX_BENCH_BYSTANDER_TOKEN"] = bystander_token
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "curex.bench.notify_clients",
            "--url",
            self._settings.notifications_url,
            "--clients",
            str(self._options.clients),
            "--recipients",
            str(self._recipients),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=env,
            limit=256 * 1024 * 1024,
        )

    async def _create(self, api: ApplicationsClient) -> list[str]:
        _, patient_id, home = PATIENT
        created: list[str] = []
        interval = 1.0 / self._options.rate
        started = time.monotonic()
        for index in range(self._options.transfers):
            # Pacing the offered rate, not waiting for an event.
            await asyncio.sleep(max(0.0, started + index * interval - time.monotonic()))
            try:
                created.append(
                    await api.create(patient_id=patient_id, source_org=home, emergency=True)
                )
            except ApiError as error:
                raise BenchError(f"a create was refused: {error}") from error
        return created

    async def _seed(self) -> None:
        """Both organisations' policies and scores, and the patient's records at home, so
        the transfers move on as real ones do on a freshly started stack."""
        _, patient_id, home = PATIENT
        processors = processor_settings(self._settings)
        records = LocalRecordsStore(processors.records_dir, processors.pseudonym_key.encode())
        records.add_patient(home, patient_id)
        self._log(f"seeding the demo organisations {HOME} and {TREATING}")
        async with (
            open_bus(self._settings) as bus,
            BlockWatcher(observer_access(self._settings)) as watcher,
        ):
            try:
                await seed_demo_organisations(bus.publisher, watcher)
            except WaitTimedOut as exc:
                raise BenchError(f"seeding the demo organisations: {exc}") from exc

    async def run(self) -> NotifyBenchResult:
        await self._seed()
        keycloak = self._settings.keycloak_url
        patient_token = await password_token(keycloak, PATIENT[0], DEMO_PASSWORD)
        doctor_token = await password_token(keycloak, PROFESSIONAL, DEMO_PASSWORD)
        bystander_token = (
            await password_token(keycloak, BYSTANDER, DEMO_PASSWORD)
            if self._recipients < self._options.clients
            else None
        )
        api_url = f"http://127.0.0.1:{self._settings.api_port}"
        options = self._options
        self._log(f"connecting {options.clients} clients in their own process")
        clients = await self._start_clients(patient_token, bystander_token)
        try:
            opened = await _line(clients, options.deadline_s)
            connected = int(opened["connected"])  # type: ignore[call-overload]
            self._log(
                f"{connected} of {options.clients} clients connected, "
                f"{opened['recipients']} as the recipient patient"
            )
            times = _BlockTimes()
            async with (
                TopicFollower(observer_access(self._settings), LEDGER_BLOCKS) as follower,
                RssSampler({"notifier": self._pid}) as rss,
                ApplicationsClient(api_url, doctor_token) as api,
            ):
                following = asyncio.create_task(_follow(follower, times))
                try:
                    transfers = await self._create(api)
                    self._log(f"{len(transfers)} transfers created; waiting for their changes")
                    deadline = time.monotonic() + options.deadline_s
                    while any(
                        times.per_transfer.get(t, 0) < CHANGES_PER_TRANSFER for t in transfers
                    ):
                        if time.monotonic() > deadline:
                            raise BenchError("the ledger did not commit every change in time")
                        await asyncio.sleep(0.05)  # the interval of a deadline-bounded poll
                    assert clients.stdin is not None
                    clients.stdin.write(
                        orjson.dumps(
                            {
                                "transfers": transfers,
                                "changes_per_transfer": CHANGES_PER_TRANSFER,
                                "within_s": options.deadline_s,
                            }
                        )
                        + b"\n"
                    )
                    await clients.stdin.drain()
                    figures = await _line(clients, options.deadline_s + 60)
                finally:
                    following.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await following
            peak_rss = rss.peaks["notifier"]
        finally:
            with contextlib.suppress(ProcessLookupError):
                clients.kill()
            await clients.wait()
        return self._result(connected, opened, figures, transfers, times, peak_rss)

    def _result(
        self,
        connected: int,
        opened: dict[str, object],
        figures: dict[str, object],
        transfers: list[str],
        times: _BlockTimes,
        peak_rss: int,
    ) -> NotifyBenchResult:
        delays: list[float] = list(figures["delays"])  # type: ignore[call-overload]
        baseline = [times.delays[tx] for tx in times.delays]
        recipients = int(opened["recipients"])  # type: ignore[call-overload]
        expected = recipients * len(transfers) * CHANGES_PER_TRANSFER
        result = NotifyBenchResult(
            clients=self._options.clients,
            recipients=recipients,
            bystander_frames=int(figures["bystander_frames"]),  # type: ignore[call-overload]
            connected=connected,
            held=int(figures["held"]),  # type: ignore[call-overload]
            expected=expected,
            received=int(figures["received"]),  # type: ignore[call-overload]
            closed=dict(figures["closed"]),  # type: ignore[call-overload]
            delivery=percentiles(delays),
            baseline=percentiles(baseline),
            notifier_rss_bytes=peak_rss,
            refused=dict(opened.get("refused") or {}),  # type: ignore[call-overload]
        )
        _refuse_impossible(result, delays, baseline, figures)
        return result


def _refuse_impossible(
    result: NotifyBenchResult,
    delays: list[float],
    baseline: list[float],
    figures: dict[str, object],
) -> None:
    """A figure no correct run can produce aborts the bench instead of being printed."""
    problems = []
    if min(delays + baseline, default=0.0) < _NEGATIVE_TOLERANCE_S:
        problems.append(f"a negative delay ({min(delays + baseline):.3f} s)")
    if result.received > result.expected:
        problems.append(f"{result.received} frames received, only {result.expected} sent")
    if int(figures["most_per_transfer"]) > CHANGES_PER_TRANSFER:  # type: ignore[call-overload]
        problems.append("a client got one change twice")
    if not 0 <= result.held <= result.connected <= result.clients:
        problems.append(f"{result.held} held of {result.connected} connected")
    if result.notifier_rss_bytes <= 0:
        problems.append("no resident memory measured for the notifier")
    if len(delays) != result.received:
        problems.append("delays and frames received disagree")
    if problems:
        raise BenchError("impossible figures: " + "; ".join(problems))
