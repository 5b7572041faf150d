"""Container health check: asks a service's grpc.health.v1 endpoint whether it is SERVING.

Usage: python deploy/docker/healthcheck.py PORT  (exit 0 when serving, 1 otherwise).
"""

from __future__ import annotations

import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

TIMEOUT_SECONDS = 3.0


def is_serving(port: int) -> bool:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            reply = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=TIMEOUT_SECONDS)
        except grpc.RpcError:
            return False
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


def main(argv: list[str]) -> int:
    if len(argv) != 2 or not argv[1].isdigit():
        sys.stderr.write("usage: healthcheck.py PORT\n")
        return 2
    return 0 if is_serving(int(argv[1])) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
