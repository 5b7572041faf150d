"""What authentication costs on a read RPC, measured in one run against two baselines.

    python -m benchmarks.auth_overhead [--seconds 5] [--rounds 3] [--callers 16]

Three servers in this process, one after another, each called by 16 concurrent callers from a child
process for the same time:
- bare: a grpc.aio server answering an echo (no interceptor, no database): the floor of this machine;
- unauthenticated: the enrollment service's GetProgram (its servicer, bus and SQLite database) behind the
  observability interceptor, with the caller's Principal set by a trivial interceptor (no token);
- authenticated: the same servicer and database behind the shared GrpcServer, every call carrying an
  RS256 bearer token that the real verifier checks (signature, iss, aud, exp; a token that verified is
  remembered for a minute) with a cached JWKS; and an echo behind that same server.
Prints the QPS of each (median of the rounds) and the ratios authenticated / unauthenticated GetProgram
(target >= 0.9) and authenticated echo / bare echo (target >= 0.8: what the shared server with
authentication costs on top of grpc.aio itself).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from google.protobuf.timestamp_pb2 import Timestamp
from mentoring.v1 import common_pb2, enrollment_pb2, enrollment_pb2_grpc

from services.enrollment import bootstrap as enrollment_bootstrap
from services.enrollment.entrypoints.grpc_servicer import EnrollmentServicer
from services.enrollment.service_layer.handlers import handler_map
from services.shared.auth import Principal, acting_as
from services.shared.auth_keys import JwksCache
from services.shared.auth_tokens import TokenPolicy, TokenVerifier
from services.shared.db import Database
from services.shared.grpc_server import GrpcServer, ObservabilityInterceptor
from services.shared.messagebus import MessageBus
from services.shared.timestamps import timestamp

ISSUER = "https://issuer.bench/realms/mentoring"
AUDIENCE = "mentoring-api"
TENANT = "bench"
HR = Principal("bench-hr", TENANT, "B0001", None, frozenset({"employee", "hr_admin"}))
ECHO = "/bench.Echo/Echo"
GET_PROGRAM = "/mentoring.v1.EnrollmentService/GetProgram"


class Issuer:
    """A signing key of the benchmark's own and its JWKS, served from memory."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = uuid.uuid4().hex[:12]

    async def fetch(self, url: str) -> Mapping[str, Any]:
        if url.endswith("/.well-known/openid-configuration"):
            return {"issuer": ISSUER, "jwks_uri": f"{ISSUER}/certs"}
        public = json.loads(jwt.get_algorithm_by_name("RS256").to_jwk(self.key.public_key()))
        return {"keys": [{**public, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def token(self) -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": HR.subject,
            "iat": now,
            "exp": now + 3600,
            "tenant": TENANT,
            "employee_id": HR.employee_id,
            "roles": sorted(HR.roles),
        }
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})

    def verifier(self) -> TokenVerifier:
        return TokenVerifier(TokenPolicy(ISSUER, AUDIENCE), JwksCache(ISSUER, self.fetch))


class FixedPrincipal(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """The baseline's caller without a token: every call runs as ``principal``."""

    def __init__(self, principal: Principal) -> None:
        self._principal = principal

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any]]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any]:
        handler = await continuation(handler_call_details)
        inner = handler.unary_unary
        principal = self._principal

        async def as_principal(request: Any, context: Any) -> Any:
            with acting_as(principal):
                return await inner(request, context)  # type: ignore[misc]

        return grpc.unary_unary_rpc_method_handler(
            as_principal,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


def _callers(target: str, method: str, request: bytes, token: str, seconds: float, callers: int) -> float:
    """In a child process: ``callers`` concurrent loops for ``seconds``; returns calls per second."""

    async def run() -> float:
        metadata = (("authorization", f"Bearer {token}"),) if token else None
        async with grpc.aio.insecure_channel(target) as channel:
            call = channel.unary_unary(method)
            await call(request, metadata=metadata, timeout=10)
            done = 0
            end = time.perf_counter() + seconds

            async def loop() -> None:
                nonlocal done
                while time.perf_counter() < end:
                    await call(request, metadata=metadata, timeout=10)
                    done += 1

            started = time.perf_counter()
            await asyncio.gather(*(loop() for _ in range(callers)))
            return done / (time.perf_counter() - started)

    return asyncio.run(run())


async def _measure(target: str, method: str, request: bytes, token: str, args: argparse.Namespace) -> float:
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        result = pool.apply_async(_callers, (target, method, request, token, args.seconds, args.callers))
        while not result.ready():
            await asyncio.sleep(0.05)
        return float(result.get())


async def _echo(request: bytes, context: Any) -> bytes:
    return request


def _add_echo(server: grpc.aio.Server) -> None:
    echo = grpc.unary_unary_rpc_method_handler(_echo)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("bench.Echo", {"Echo": echo}),))


async def main(args: argparse.Namespace) -> None:
    issuer = Issuer()
    with tempfile.TemporaryDirectory() as folder:
        database = Database(f"sqlite+aiosqlite:///{Path(folder) / 'enrollment.db'}")
        await database.migrate(enrollment_bootstrap.MIGRATIONS)
        servicer = EnrollmentServicer(MessageBus(database, handler_map()))

        bare = grpc.aio.server()
        _add_echo(bare)
        bare_port = bare.add_insecure_port("127.0.0.1:0")
        unauthenticated = grpc.aio.server(interceptors=[ObservabilityInterceptor(), FixedPrincipal(HR)])
        enrollment_pb2_grpc.add_EnrollmentServiceServicer_to_server(servicer, unauthenticated)
        unauthenticated_port = unauthenticated.add_insecure_port("127.0.0.1:0")
        authenticated = GrpcServer(
            "127.0.0.1",
            0,
            [
                lambda server: enrollment_pb2_grpc.add_EnrollmentServiceServicer_to_server(servicer, server),
                _add_echo,
            ],
            ["mentoring.v1.EnrollmentService"],
            4 * 1024 * 1024,
            0.5,
            issuer.verifier(),
        )
        for server in (bare, unauthenticated):
            await server.start()
        await authenticated.start()
        try:
            program = await _create_program(f"127.0.0.1:{authenticated.port}", issuer.token())
            read = enrollment_pb2.GetProgramRequest(program_id=program).SerializeToString()
            token = issuer.token()
            cases = {
                "bare echo": (f"127.0.0.1:{bare_port}", ECHO, read, ""),
                "unauthenticated GetProgram": (f"127.0.0.1:{unauthenticated_port}", GET_PROGRAM, read, ""),
                "authenticated GetProgram": (f"127.0.0.1:{authenticated.port}", GET_PROGRAM, read, token),
                "authenticated echo": (f"127.0.0.1:{authenticated.port}", ECHO, read, token),
            }
            rates: dict[str, list[float]] = {name: [] for name in cases}
            for _ in range(args.rounds):
                for name, (target, method, request, bearer) in cases.items():
                    rates[name].append(await _measure(target, method, request, bearer, args))
        finally:
            await authenticated.stop()
            for server in (bare, unauthenticated):
                await server.stop(0.5)
            await database.dispose()
    medians = {name: statistics.median(values) for name, values in rates.items()}
    print(f"auth overhead: {args.callers} concurrent callers, {args.rounds} rounds of {args.seconds:.0f} s")
    for name, value in medians.items():
        print(f"  {name:<28} {value:>9,.0f} calls/s  (rounds: {', '.join(f'{v:,.0f}' for v in rates[name])})")
    read = medians["authenticated GetProgram"] / medians["unauthenticated GetProgram"]
    echo = medians["authenticated echo"] / medians["bare echo"]
    whole = medians["authenticated GetProgram"] / medians["bare echo"]
    print(f"  authenticated / unauthenticated GetProgram: {read:.2f}  (target >= 0.9)")
    print(f"  authenticated echo / bare echo:             {echo:.2f}  (target >= 0.8)")
    print(f"  authenticated GetProgram / bare echo:       {whole:.2f}  (includes the read's own SQL)")


async def _create_program(target: str, token: str) -> str:
    now = time.time()
    program = common_pb2.Program(
        name="Benchmark program",
        format=common_pb2.PROGRAM_FORMAT_ONE_ON_ONE,
        delivery=common_pb2.DELIVERY_REMOTE,
        enrollment_window=common_pb2.DateRange(
            start=timestamp_at(now - 86400), end=timestamp_at(now + 86400)
        ),
        cohort=common_pb2.DateRange(start=timestamp_at(now + 86400), end=timestamp_at(now + 90 * 86400)),
        mentor_capacity_default=2,
        matching_mode=common_pb2.MATCHING_MODE_OPTIMISE,
    )
    async with grpc.aio.insecure_channel(target) as channel:
        created = await enrollment_pb2_grpc.EnrollmentServiceStub(channel).CreateProgram(
            enrollment_pb2.CreateProgramRequest(tenant=TENANT, request_id="bench", program=program),
            metadata=(("authorization", f"Bearer {token}"),),
            timeout=30,
        )
    return str(created.program_id)


def timestamp_at(epoch: float) -> Timestamp:
    return timestamp(datetime.fromtimestamp(epoch, UTC))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--callers", type=int, default=16)
    asyncio.run(main(parser.parse_args()))
