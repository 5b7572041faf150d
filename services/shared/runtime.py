"""How a service process runs: one event loop shared by the Faust worker (consumers), the gRPC server,
the outbox relay, the DLQ publisher and the ``/metrics`` endpoint.

A service's ``bootstrap.py`` builds a :class:`ServiceRuntime`, adds its consumers (``consume``), gRPC
servicers (``add_grpc_service``) and background jobs (``jobs.every`` / ``jobs.forever``), and calls
:func:`run`. SIGTERM / SIGINT stop it in order: health NOT_SERVING, gRPC drained, consumers
stopped, relay flushed, database closed.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import faust
import mode
from google.protobuf.message import Message
from sqlalchemy import text

from services.shared import paging
from services.shared.audit import AuditTrail
from services.shared.auth_tokens import verifier_from_settings
from services.shared.bulk_consumer import BulkConsumer
from services.shared.cancellation import run_guarded
from services.shared.config import ServiceSettings
from services.shared.consumer import BatchHandler, ConsumerPipeline, EventHandler, until_processed
from services.shared.db import Database
from services.shared.dlq import DlqPublisher, raw_record
from services.shared.grpc_server import GrpcServer, Registrar
from services.shared.jobs import Jobs
from services.shared.kafka_admin import ensure_topics
from services.shared.logging import configure_logging, get_logger
from services.shared.metrics import CONSUMER_LAG, initialise_consumer_counters, start_metrics_server
from services.shared.outbox import OutboxRelay
from services.shared.probes import LoopHeartbeat
from services.shared.retention import MessagingRetention, check_inbox_retention, hours
from services.shared.topics import AUDIT_EVENTS, DAY_MS, ce_type_of, check_consumer

log = get_logger(__name__)

# Allocations before a young collection, and young / middle collections before an older one.
GC_THRESHOLDS = (50_000, 20, 100)


class ServiceRuntime:
    """The parts every service has, wired once."""

    def __init__(self, settings: ServiceSettings, migrations: Path) -> None:
        self.settings = settings
        self.name = settings.service_name
        self.migrations = migrations
        self.database = Database(settings.effective_database_url)
        self.namespace = settings.topic_namespace
        self.relay = OutboxRelay(
            self.name,
            self.database,
            settings.kafka_bootstrap,
            settings.outbox_batch_size,
            settings.outbox_poll_seconds,
            self.namespace,
        )
        self.dlq = DlqPublisher(self.name, settings.kafka_bootstrap)
        self.retention = MessagingRetention(
            self.name,
            self.database,
            outbox_retention=hours(settings.outbox_retention_hours),
            inbox_retention=hours(settings.inbox_retention_hours),
            interval_seconds=settings.retention_interval_seconds,
        )
        self.audit = AuditTrail(
            self.name,
            self.database,
            retention=timedelta(days=settings.audit_retention_days)
            if settings.audit_retention_days
            else None,
            after_write=self.relay.wake,
            queue_size=settings.audit_queue_size,
            batch_size=settings.audit_batch_size,
        )
        self._consumed_topics: list[str] = []
        self.jobs = Jobs(self.name)
        self.jobs.every("health_probe", settings.health_probe_seconds, self._probe_health)
        if self.audit.retention is not None:
            self.jobs.every("audit_retention", settings.retention_interval_seconds, self.audit.prune)
        self._serving = True
        self._on_stop: list[Callable[[], Awaitable[None]]] = []
        self.faust_app = faust.App(
            self.namespace + self.name,
            broker=f"kafka://{settings.kafka_bootstrap}",
            web_enabled=False,
            producer_acks=-1,
            consumer_auto_offset_reset="earliest",
            topic_disable_leader=True,
            datadir=str(settings.data_dir / f"faust-{self.name}"),
            store="memory://",
        )
        self.faust_app.conf.broker_session_timeout = settings.consumer_session_timeout_seconds
        self.faust_app.conf.broker_heartbeat_interval = settings.consumer_session_timeout_seconds / 3
        self._bulk_consumers: list[BulkConsumer] = []
        self._registrars: list[Registrar] = []
        self._grpc_service_names: list[str] = []
        self._ready = asyncio.Event()
        self.grpc: GrpcServer | None = None
        self.metrics_port = 0
        self._heartbeat = LoopHeartbeat()
        self._stopping = False

    def on_stop(self, release: Callable[[], Awaitable[None]]) -> None:
        """Release something the service holds (a client's channel) once consumers and jobs stopped."""
        self._on_stop.append(release)

    @property
    def consumed_topics(self) -> tuple[str, ...]:
        return tuple(self._consumed_topics)

    def add_grpc_service(self, registrar: Registrar, full_name: str) -> None:
        self._registrars.append(registrar)
        self._grpc_service_names.append(full_name)

    def consume(
        self,
        topic: str,
        handlers: Mapping[type[Message], EventHandler] | BatchHandler,
        *,
        bulk: bool = False,
    ) -> ConsumerPipeline:
        """Join the service's consumer group on ``topic``; each record goes through one pipeline.

        ``handlers``: one per message class (its CloudEvents type comes from the topic registry), or a
        batch handler. The registry must list this service as a consumer of ``topic`` and every type
        handled as one that travels on it. ``bulk``: a high-volume topic, read in whole fetches by a
        :class:`BulkConsumer` rather than event by event by a Faust agent (see that module for the
        measured difference).
        """
        handler = (
            handlers
            if isinstance(handlers, BatchHandler)
            else {ce_type_of(message): handle for message, handle in handlers.items()}
        )
        check_consumer(self.name, topic, handler.types if isinstance(handler, BatchHandler) else handler)
        self._consumed_topics.append(topic)
        initialise_consumer_counters(self.name, self.namespace + topic)
        pipeline = ConsumerPipeline(
            self.name,
            self.database,
            handler,
            self.dlq,
            max_retries=self.settings.consumer_max_retries,
            retry_base_seconds=self.settings.consumer_retry_base_seconds,
            after_commit=self.relay.wake,
            registry_topic=topic,
        )
        if bulk:
            self._bulk_consumers.append(
                BulkConsumer(
                    self.name,
                    pipeline,
                    bootstrap=self.settings.kafka_bootstrap,
                    topic=self.namespace + topic,
                    group_id=f"{self.namespace}{self.name}.{topic}",
                    batch_size=self.settings.consumer_batch_size,
                    batch_seconds=self.settings.consumer_batch_seconds,
                    session_timeout_seconds=self.settings.consumer_session_timeout_seconds,
                )
            )
            return pipeline
        faust_topic = self.faust_app.topic(
            self.namespace + topic, value_serializer="raw", key_serializer="raw"
        )
        ready = self._ready
        service = self.name
        app = self.faust_app

        batch_size = self.settings.consumer_batch_size
        batch_seconds = self.settings.consumer_batch_seconds

        async def consume(stream: faust.StreamT[Any]) -> AsyncIterator[None]:
            assert isinstance(stream, faust.Stream)  # take_events is on the class, not the protocol
            await ready.wait()
            async for events in stream.take_events(batch_size, within=batch_seconds):
                messages = [event.message for event in events]
                await until_processed(pipeline, [raw_record(message) for message in messages])
                last_per_partition = {message.tp: message for message in messages}
                for message in last_per_partition.values():
                    highwater = app.consumer.highwater(message.tp)
                    if highwater is not None:
                        CONSUMER_LAG.labels(service, message.topic, str(message.partition)).set(
                            max(highwater - message.offset - 1, 0)
                        )
                yield None

        self.faust_app.agent(faust_topic, name=f"{self.name}.{topic}")(consume)
        return pipeline

    async def prepare(self) -> None:
        """What must hold before anything consumes or serves: settings, schema and topics."""
        check_inbox_retention(hours(self.settings.inbox_retention_hours), self._consumed_topics)
        await self.database.migrate(self.migrations)
        audit_days = self.settings.audit_retention_days
        await ensure_topics(
            self.settings.kafka_bootstrap,
            self.settings.topic_replication_factor,
            self.namespace,
            {AUDIT_EVENTS: round(audit_days * DAY_MS) if audit_days else -1},  # 0 days: kept for ever
        )

    async def start(self) -> None:
        paging.use_signing_key(self.settings.page_token_secret.get_secret_value())
        await self.dlq.start()
        await self.relay.start()
        await self.retention.start()
        await self.audit.start()
        self.grpc = GrpcServer(
            self.settings.grpc_host,
            self.settings.grpc_port,
            self._registrars,
            self._grpc_service_names,
            self.settings.grpc_max_message_bytes,
            self.settings.grpc_shutdown_grace_seconds,
            verifier_from_settings(self.settings),
            audit=self.audit,
        )
        await self.grpc.start()
        self._heartbeat.start()
        self.metrics_port = start_metrics_server(
            self.settings.metrics_host,
            self.settings.metrics_port,
            live=self._heartbeat.fresh,
            ready=self.ready,
        )
        for bulk_consumer in self._bulk_consumers:
            await bulk_consumer.start()
        self._ready.set()
        self.jobs.start()
        self._write_ready_file()
        log.info(
            "service_ready",
            grpc=f"{self.grpc.host}:{self.grpc.port}",
            metrics=f"{self.settings.metrics_host}:{self.metrics_port}",
        )

    def ready(self) -> bool:
        """What ``/readyz`` answers, the same as gRPC health: started, not stopping, database writable."""
        return self._ready.is_set() and self._serving and not self._stopping

    async def stop(self) -> None:
        self._stopping = True
        await self.jobs.stop()
        if self.grpc is not None:
            await self.grpc.stop()
        for bulk_consumer in self._bulk_consumers:
            await bulk_consumer.stop()
        await self.audit.stop()  # after the last call, before the relay: its last records still leave
        await self.relay.stop()
        await self.retention.stop()
        await self.dlq.stop()
        for release in self._on_stop:
            await release()
        await self.database.dispose()
        log.info("service_stopped")

    async def _probe_health(self) -> None:
        """Health SERVING while a write transaction on the service's database succeeds in time."""
        probe = asyncio.ensure_future(run_guarded(self._try_write))
        try:
            timeout = self.settings.health_probe_timeout_seconds
            done, _ = await asyncio.wait([probe], timeout=timeout)
            if not done:
                # One slow write is a busy moment (a run storing its proposals holds the write lock);
                # one slower than twice the timeout means the service cannot do its work.
                done, _ = await asyncio.wait([probe], timeout=timeout)
            if not done:
                await self._report_health(False, "database_too_slow")
            await asyncio.wait([probe])
            error = probe.exception()
        except asyncio.CancelledError:  # the service stops: let the probe roll back first
            probe.cancel()
            await asyncio.wait([probe])
            raise
        await self._report_health(error is None, "" if error is None else type(error).__name__)

    async def _try_write(self) -> None:
        async with self.database.transaction() as session:
            await session.execute(text("SELECT 1"))

    async def _report_health(self, serving: bool, reason: str) -> None:
        if self.grpc is None or serving == self._serving:
            return
        self._serving = serving
        await self.grpc.set_serving(serving)
        if serving:
            log.info("health_serving")
        else:
            log.warning("health_not_serving", reason=reason)

    def _write_ready_file(self) -> None:
        """Where this process listens, for tools and tests that start it on free ports."""
        assert self.grpc is not None
        path = self.settings.data_dir / f"{self.name}.ready.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"grpc_port": self.grpc.port, "metrics_port": self.metrics_port}))


class _RuntimeService(mode.Service):
    """Adapts a ServiceRuntime to the Faust worker's service lifecycle."""

    def __init__(self, runtime: ServiceRuntime) -> None:
        super().__init__()
        self._runtime = runtime

    async def on_start(self) -> None:
        await self._runtime.start()

    async def on_stop(self) -> None:
        await self._runtime.stop()


class _BoundedShutdownWorker(faust.Worker):
    """The Faust worker, with a bound on how long a shutdown may take.

    A SIGTERM that lands while the consumer is still joining its group can leave the worker's stop
    waiting for ever (seen under load). The outbox is durable and consumers are idempotent, so ending
    the process after a grace period loses nothing: the broker reassigns the partitions.
    """

    grace_seconds: float = 20.0

    def _schedule_shutdown(self, signal: Any) -> None:
        self.loop.call_later(self.grace_seconds, _exit_after_grace)
        super()._schedule_shutdown(signal)


def _exit_after_grace() -> None:
    log.warning("shutdown_forced_after_grace")
    os._exit(0)


def run(runtime: ServiceRuntime) -> None:
    """Run the service until SIGTERM or SIGINT."""
    settings = runtime.settings
    configure_logging(runtime.name, settings.log_level, settings.log_json)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.run_until_complete(runtime.prepare())
    # Consumers allocate many short-lived objects per record while caches hold many long-lived ones:
    # with the default thresholds the collector ran every 700 allocations and cost the HRIS ingestion
    # a quarter of its throughput. Start-up objects are frozen out of collections altogether.
    gc.set_threshold(*GC_THRESHOLDS)
    gc.freeze()
    if not runtime.faust_app.agents:
        # Only bulk consumers: a Faust consumer with nothing to subscribe to would crash the worker.
        runtime.faust_app.producer_only = True
    worker = _BoundedShutdownWorker(
        runtime.faust_app,
        _RuntimeService(runtime),
        loop=loop,
        loglevel=settings.log_level.lower(),
        redirect_stdouts=False,
    )
    worker.grace_seconds = settings.shutdown_timeout_seconds
    worker.execute_from_commandline()
