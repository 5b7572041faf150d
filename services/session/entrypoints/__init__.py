"""Translations between the wire (Kafka records, gRPC) and the session service's handlers."""
