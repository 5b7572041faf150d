"""Topic provisioning from the registry: every topic and its DLQ twin, created if missing."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from services.shared.topics import TOPIC_MAX_MESSAGE_BYTES, TOPICS, Topic


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
        return [new_topic.name for new_topic in missing]
    finally:
        await admin.close()
