"""Topic provisioning from the registry: every topic and its DLQ twin, created if missing."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from services.shared.topics import TOPIC_MAX_MESSAGE_BYTES, TOPICS, Topic

TOPIC_READY_SECONDS = 60.0


def _new_topics(
    topic: Topic, replication_factor: int, namespace: str, retention_ms: int | None = None
) -> list[NewTopic]:
    limits = {"max.message.bytes": str(TOPIC_MAX_MESSAGE_BYTES)}
    retention = topic.retention_ms if retention_ms is None else retention_ms
    configs = {"retention.ms": str(retention), **limits}
    if topic.compacted:
        configs["cleanup.policy"] = "compact"
    # A dead letter is kept no longer than the record it copies: it may hold the same personal data.
    dlq_configs = {"retention.ms": str(retention), **limits}
    return [
        NewTopic(namespace + topic.name, topic.partitions, replication_factor, topic_configs=configs),
        NewTopic(namespace + topic.dlq, 1, replication_factor, topic_configs=dlq_configs),
    ]


async def ensure_topics(
    bootstrap: str,
    replication_factor: int = 1,
    namespace: str = "",
    retention_ms: Mapping[str, int] | None = None,
) -> list[str]:
    """Create the registry's topics that do not exist yet; returns the names created. ``retention_ms``
    overrides the registry's retention of some topics by name (a setting, e.g. the audit trail's);
    a topic that exists keeps what it has."""
    overrides = retention_ms or {}
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            new_topic
            for topic in TOPICS.values()
            for new_topic in _new_topics(topic, replication_factor, namespace, overrides.get(topic.name))
            if new_topic.name not in existing
        ]
        if missing:
            # Another service may have created them first.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(missing)
        wanted = [namespace + topic.name for topic in TOPICS.values()]
        await _until_led(admin, [*wanted, *(namespace + topic.dlq for topic in TOPICS.values())])
        return [new_topic.name for new_topic in missing]
    finally:
        await admin.close()


async def _until_led(
    admin: AIOKafkaAdminClient, names: list[str], timeout_seconds: float = TOPIC_READY_SECONDS
) -> None:
    """Wait until the broker's metadata lists every topic with a leader for each partition. A consumer
    that subscribes to a topic its first metadata does not list ignores that topic for good (on a
    broker that has just started, a topic is created some moments before the metadata shows it)."""
    deadline = asyncio.get_running_loop().time() + timeout_seconds
    while True:
        described = await admin.describe_topics(names)
        led = {
            entry["topic"]
            for entry in described
            if entry["error_code"] == 0
            and entry["partitions"]
            and all(partition["leader"] >= 0 for partition in entry["partitions"])
        }
        waiting = sorted(set(names) - led)
        if not waiting:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"topics without a leader after {timeout_seconds:.0f} s: {waiting[:5]}")
        await asyncio.sleep(0.2)
