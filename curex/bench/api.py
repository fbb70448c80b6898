"""`curex bench api`: the REST API at a fixed concurrency, beside the raw broker.

doctor.ki creates transfers (POST /v1/transfers), then reads them one by one and lists
them, each phase a fixed number of requests (bounded in time too) through one
``aiohttp.ClientSession``; every request is timed from send to response read. In the same
run, the durable producer the API uses publishes messages of a CreateTransfer's exact
size to a topic of the run: first with as many acknowledgements awaited at once as the
API had requests in flight, then flat out.
"""

import asyncio
import json
import secrets
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
import httpx
import psycopg
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from curex.bench.baseline import baseline_topics
from curex.bench.direct_reads import direct_reads
from curex.bench.errors import BenchError
from curex.bench.latency import percentiles
from curex.bench.load import Attempt, LoadResult, drive
from curex.bench.projection import wait_projected
from curex.bench.read_seed import Seeded, seed_transfers, storage_per_transfer
from curex.bench.run import collector_paused
from curex.block_watch import BlockWatcher
from curex.bus import observer_access, open_bus
from curex.demo import DEMO_PASSWORD, HOME, TREATING, seed_demo_organisations
from curex.errors import ApiError, WaitTimedOut
from curex.rest_client import password_token
from curex.stack_settings import processor_settings
from infra.kafka.principals import BENCH
from infra.kafka.security import kafka_access
from infra.postgres.server import database_url
from infra.settings import InfraSettings
from processors.records import LocalRecordsStore
from schemas import (
    FINAL_STATES,
    Actor,
    CommandRejected,
    CreateTransfer,
    LedgerReport,
    Role,
    TransactionCommitted,
    TransferState,
    pseudonymise,
)
from schemas.codes import purpose_for
from service_runtime.kafka_producer import durable_producer

USER = "doctor.ki"  # a professional of TREATING, asking HOME for records
REQUEST_TIMEOUT_S = 30.0
LIST_PAGE = 20  # items per list request, through the API and directly


@dataclass(frozen=True, slots=True)
class ApiBenchOptions:
    concurrency: int
    requests: int  # measured requests of each phase
    max_duration_s: float  # no new request of a phase after this long
    warmup: int  # unmeasured requests before each phase
    emergency: bool
    deadline_s: float  # for seeding, and for the created transfers to settle
    publish_count: int  # messages of each raw publish phase
    transfers: int = 0  # read-model rows seeded with COPY before measuring


@dataclass(frozen=True, slots=True)
class ApiBenchResult:
    options: ApiBenchOptions
    run_id: str
    message_bytes: int
    listed: int  # transfers in the last list answer
    create: LoadResult
    read: LoadResult
    listing: LoadResult
    publish: LoadResult  # `concurrency` acknowledgements awaited at once
    publish_flat_out: LoadResult
    direct_list: LoadResult  # the list's query straight through the driver
    direct_read: LoadResult
    seeded: Seeded | None
    stored_transfers: int
    bytes_per_transfer: float

    @property
    def phases(self) -> tuple[LoadResult, ...]:
        return (
            self.create,
            self.read,
            self.listing,
            self.publish,
            self.publish_flat_out,
            self.direct_list,
            self.direct_read,
        )

    @property
    def failed(self) -> int:
        return sum(phase.failed for phase in self.phases)


class RestCalls:
    """doctor.ki's requests, each answering None or what went wrong.

    Sent with aiohttp: on two cores the bench's own client shares the CPU with the server
    it measures, and httpx spent about three times aiohttp's CPU per request.
    """

    def __init__(self, http: aiohttp.ClientSession, body: dict[str, Any]) -> None:
        self._http = http
        self._body = body
        self._headers: dict[str, str] = {}
        self.created: list[str] = []
        self.listed = 0

    def sign_in(self, token: str) -> None:
        self._headers = {"Authorization": f"Bearer {token}"}

    async def _call(self, method: str, path: str, expected: int) -> Any:
        """The answer's JSON, or a string saying what went wrong."""
        try:
            async with self._http.request(
                method,
                path,
                json=self._body if method == "POST" else None,
                headers=self._headers,
            ) as response:
                body = await response.read()
                if response.status != expected:
                    return f"HTTP {response.status}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            return type(exc).__name__
        return json.loads(body)

    async def create_transfer(self, _: int) -> str | None:
        answer = await self._call("POST", "/v1/transfers", 202)
        if isinstance(answer, str):
            return answer
        self.created.append(answer["transfer_id"])
        return None

    async def get_transfer(self, index: int) -> str | None:
        transfer_id = self.created[index % len(self.created)]
        answer = await self._call("GET", f"/v1/transfers/{transfer_id}", 200)
        return answer if isinstance(answer, str) else None

    async def list_transfers(self, _: int) -> str | None:
        answer = await self._call("GET", f"/v1/transfers?limit={LIST_PAGE}", 200)
        if isinstance(answer, str):
            return answer
        self.listed = len(answer["items"])
        return None


def _settled(emergency: bool) -> Callable[[list[LedgerReport]], bool]:
    """Where a created transfer rests until someone acts: nothing more is underway."""
    resting = FINAL_STATES | {
        TransferState.DATA_AVAILABLE if emergency else TransferState.RISK_ACCEPTED
    }

    def done(reports: list[LedgerReport]) -> bool:
        return any(isinstance(r, CommandRejected) for r in reports) or any(
            isinstance(r, TransactionCommitted)
            and r.result.transfer is not None
            and r.result.transfer.state in resting
            for r in reports
        )

    return done


async def _wait_settled(
    watcher: BlockWatcher, ids: Sequence[str], emergency: bool, within: float
) -> None:
    try:
        await watcher.wait_until(list(ids), _settled(emergency), within)
    except WaitTimedOut as exc:
        raise BenchError(f"the created transfers did not settle within {within:g}s: {exc}") from exc
    refused = [r for t in ids for r in watcher.rejections(t)]
    if refused:
        raise BenchError(f"the ledger refused {len(refused)} create(s): {refused[0].reason}")


def _raw_message(key: bytes, patient_id: str, emergency: bool) -> bytes:
    """A CreateTransfer as the API publishes it for the bench's request body."""
    event_id = uuid.uuid4()
    transfer_id = f"tr-{event_id.hex}"
    command = CreateTransfer(
        event_id=event_id,
        correlation_id=transfer_id,
        transfer_id=transfer_id,
        actor=Actor(user_id=USER, org=TREATING, role=Role.HEALTH_PROFESSIONAL),
        source_org=HOME,
        patient_pseudonym=pseudonymise(key, HOME, patient_id),
        emergency=emergency,
        purpose=purpose_for(emergency),
    )
    return command.model_dump_json().encode()


def _record_key(index: int) -> bytes:
    return f"tr-{index:032x}".encode()  # as long as a transfer id


async def publish_awaiting_acks(
    producer: AIOKafkaProducer, topic: str, payload: bytes, options: ApiBenchOptions
) -> LoadResult:
    async def publish(index: int) -> str | None:
        try:
            await (await producer.send(topic, payload, key=_record_key(index)))
        except KafkaError as exc:
            return type(exc).__name__
        return None

    return await drive(publish, options.publish_count, options.concurrency, options.max_duration_s)


async def publish_flat_out(
    producer: AIOKafkaProducer, topic: str, payload: bytes, count: int, within: float
) -> LoadResult:
    """Queue every message at once; each is timed from its send to its acknowledgement."""
    latencies: list[float] = []
    failures: Counter[str] = Counter()

    def timer(sent_at: float) -> Callable[[asyncio.Future[Any]], None]:
        def acknowledged(ack: asyncio.Future[Any]) -> None:
            if ack.cancelled():
                failures["cancelled"] += 1
            elif ack.exception() is not None:
                failures[type(ack.exception()).__name__] += 1
            else:
                latencies.append(time.perf_counter() - sent_at)

        return acknowledged

    started = time.perf_counter()
    acks = []
    for index in range(count):
        sent_at = time.perf_counter()
        ack = await producer.send(topic, payload, key=_record_key(index))
        ack.add_done_callback(timer(sent_at))
        acks.append(ack)
    try:
        await asyncio.wait_for(asyncio.gather(*acks, return_exceptions=True), timeout=within)
    except TimeoutError as exc:
        raise BenchError(f"Kafka did not acknowledge {count} messages within {within:g}s") from exc
    return LoadResult(count, time.perf_counter() - started, percentiles(latencies), dict(failures))


class ApiBench:
    def __init__(
        self,
        settings: InfraSettings,
        options: ApiBenchOptions,
        say: Callable[[str], None],
    ) -> None:
        self._settings = settings
        self._options = options
        self._say = say
        self.run_id = secrets.token_hex(4).upper()
        self.patient_id = f"BENCH-{self.run_id}"
        self._created: list[str] = []

    async def _seed_read_model(self) -> Seeded | None:
        count = self._options.transfers
        if not count:
            return None
        self._say(f"seeding {count:,} transfers into the read model (COPY)")
        try:
            seeded = await seed_transfers(database_url(self._settings), count, int(self.run_id, 16))
        except psycopg.Error as exc:
            raise BenchError(f"seeding the read model failed: {exc}") from exc
        self._say(f"seeded {seeded.transfers:,} transfers in {seeded.seconds:.1f}s")
        return seeded

    async def _sign_in(self, calls: RestCalls) -> None:
        try:
            calls.sign_in(await password_token(self._settings.keycloak_url, USER, DEMO_PASSWORD))
        except (ApiError, httpx.HTTPError) as exc:
            raise BenchError(f"{USER} could not sign in: {exc}") from exc

    async def _phase(self, name: str, calls: RestCalls, attempt: Attempt) -> LoadResult:
        """Warm up unmeasured, then measure; each phase signs in afresh (tokens live 300 s)."""
        options = self._options
        await self._sign_in(calls)
        if options.warmup:
            self._say(f"{name}: {options.warmup} warm-up requests")
            await drive(attempt, options.warmup, options.concurrency, options.max_duration_s)
        self._say(f"{name}: {options.requests} requests, {options.concurrency} in flight")
        with collector_paused():
            return await drive(
                attempt, options.requests, options.concurrency, options.max_duration_s
            )

    async def _rest_phases(
        self, http: aiohttp.ClientSession, watcher: BlockWatcher
    ) -> tuple[LoadResult, LoadResult, LoadResult, int]:
        options = self._options
        calls = RestCalls(
            http,
            {
                "patient_id": self.patient_id,
                "source_org": HOME,
                "emergency": options.emergency,
                "purpose": purpose_for(options.emergency),
            },
        )
        create = await self._phase("create", calls, calls.create_transfer)
        if not calls.created:
            raise BenchError(f"no create was accepted: {create.failures}")
        self._say(f"waiting for {len(calls.created)} transfers to settle on the ledger")
        await _wait_settled(watcher, calls.created, options.emergency, options.deadline_s)
        caught_up = await wait_projected(
            observer_access(self._settings), database_url(self._settings), options.deadline_s
        )
        self._say(f"the read model caught up {caught_up:.1f}s after the ledger")
        self._created = list(calls.created)
        read = await self._phase("read by id", calls, calls.get_transfer)
        listing = await self._phase("list", calls, calls.list_transfers)
        return create, read, listing, calls.listed

    async def run(self) -> ApiBenchResult:
        options = self._options
        observer = observer_access(self._settings)
        processors = processor_settings(self._settings)
        key = processors.pseudonym_key.encode()
        # The patient has records at HOME, so the transfers move on as real ones do.
        LocalRecordsStore(processors.records_dir, key).add_patient(HOME, self.patient_id)
        payload = _raw_message(key, self.patient_id, options.emergency)
        bench = kafka_access(self._settings, BENCH)
        producer = durable_producer(bench)
        await producer.start()
        try:
            async with (
                open_bus(self._settings) as bus,
                BlockWatcher(observer) as watcher,
                baseline_topics(bench, self.run_id) as topics,
                aiohttp.ClientSession(
                    f"http://127.0.0.1:{self._settings.api_port}",
                    connector=aiohttp.TCPConnector(limit=options.concurrency),
                    timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
                ) as http,
            ):
                self._say(f"seeding the demo organisations {HOME} and {TREATING}")
                try:
                    await seed_demo_organisations(bus.publisher, watcher)
                except WaitTimedOut as exc:
                    raise BenchError(f"seeding the demo organisations: {exc}") from exc
                seeded = await self._seed_read_model()
                # A projector still filling the database would compete with the reads.
                await wait_projected(observer, database_url(self._settings), options.deadline_s)
                create, read, listing, listed = await self._rest_phases(http, watcher)
                self._say(
                    f"direct queries: {options.requests} of each, {options.concurrency} in flight"
                )
                with collector_paused():
                    direct_list, direct_read = await direct_reads(
                        database_url(self._settings),
                        TREATING,
                        self._created,
                        LIST_PAGE,
                        options.requests,
                        options.concurrency,
                        options.max_duration_s,
                    )
                self._say(f"raw publish: {options.publish_count} messages of {len(payload)} B")
                with collector_paused():
                    publish = await publish_awaiting_acks(producer, topics.source, payload, options)
                    flat_out = await publish_flat_out(
                        producer, topics.source, payload, options.publish_count, options.deadline_s
                    )
        except KafkaError as exc:
            raise BenchError(f"Kafka failed during the bench: {exc!r}") from exc
        finally:
            await producer.stop()
        stored, per_transfer = await storage_per_transfer(database_url(self._settings))
        return ApiBenchResult(
            options=options,
            run_id=self.run_id,
            message_bytes=len(payload),
            listed=listed,
            create=create,
            read=read,
            listing=listing,
            publish=publish,
            publish_flat_out=flat_out,
            direct_list=direct_list,
            direct_read=direct_read,
            seeded=seeded,
            stored_transfers=stored,
            bytes_per_transfer=per_transfer,
        )
