"""Translations between the wire (Kafka records, gRPC) and the notification service's handlers."""
