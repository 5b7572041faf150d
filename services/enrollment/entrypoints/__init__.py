"""Translations between the wire (Kafka records, gRPC) and the enrollment service's handlers."""
