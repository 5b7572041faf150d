"""Topic provisioning from the registry: every topic and its DLQ twin, created if missing."""

from __future__ import annotations

import contextlib

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from services.shared.topics import TOPIC_MAX_MESSAGE_BYTES, TOPICS, Topic


def _new_topics(topic: Topic, replication_factor: int, namespace: str) -> list[NewTopic]:
    limits = {"max.message.bytes": str(TOPIC_MAX_MESSAGE_BYTES)}
    configs = {"retention.ms": str(topic.retention_ms), **limits}
    if topic.compacted:
        configs["cleanup.policy"] = "compact"
    # A dead letter is kept no longer than the record it copies: it may hold the same personal data.
    dlq_configs = {"retention.ms": str(topic.retention_ms), **limits}
    return [
        NewTopic(namespace + topic.name, topic.partitions, replication_factor, topic_configs=configs),
        NewTopic(namespace + topic.dlq, 1, replication_factor, topic_configs=dlq_configs),
    ]


async def ensure_topics(bootstrap: str, replication_factor: int = 1, namespace: str = "") -> list[str]:
    """Create the registry's topics that do not exist yet; returns the names created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            new_topic
            for topic in TOPICS.values()
            for new_topic in _new_topics(topic, replication_factor, namespace)
            if new_topic.name not in existing
        ]
        if missing:
            # Another service may have created them first.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(missing)
        return [new_topic.name for new_topic in missing]
    finally:
        await admin.close()
