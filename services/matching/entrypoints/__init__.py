"""Translations between the wire (Kafka records, gRPC) and the matching service's handlers."""
