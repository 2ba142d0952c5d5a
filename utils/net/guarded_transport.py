"""An httpx client that reaches only the addresses a policy allows, checked as it connects.

A check made before the request (resolve the name, judge the addresses) leaves a window: the
HTTP library resolves the name again when it connects, and a name with a short TTL can answer
a public address to the check and 127.0.0.1 to the connection (DNS rebinding). So the check
lives in the connection itself: httpcore hands every new TCP connection to a network backend,
and `GuardedBackend.connect_tcp` resolves the host, refuses it if any address is not globally
routable (utils/net/addresses.py; unless the policy exempts the host), and connects to the
checked address, never to the name. The name still travels where it must: httpcore sends it as
the Host header and, for https, as the TLS server name, which the certificate is verified
against.

The client around it follows no redirects (a 3xx is an answer: following it would reach an
address nobody chose) and reads no proxy from the environment (a proxy would resolve the name
itself, unchecked).

A refused connection raises `AddressRefused`, an httpx.ConnectError: code that knows nothing
of the guard sees a connection that failed, and nothing was sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import httpcore
import httpx

from utils.net import addresses
from utils.net.addresses import AddressPolicy


class AddressRefused(httpx.ConnectError):
    """A connection the policy refused before anything was sent; `reason` names the host and
    the address ("localhost resolves to 127.0.0.1, a loopback address")."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


def refusal_behind(exc: BaseException | None) -> AddressRefused | None:
    """The AddressRefused behind `exc`, which an SDK may have wrapped in its own error."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, AddressRefused):
            return exc
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return None


def open_tcp(address: str, port: int, **options: Any) -> httpcore.NetworkStream:
    """A plain TCP connection to an address (tests stand in for the network here)."""
    return httpcore.SyncBackend().connect_tcp(address, port, **options)


class GuardedBackend(httpcore.NetworkBackend):
    def __init__(self, policy: AddressPolicy):
        self.policy = policy

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        options = {
            "timeout": timeout,
            "local_address": local_address,
            "socket_options": socket_options,
        }
        host = host.lower()
        if self.policy.exempt(host):
            return open_tcp(host, port, **options)
        found = addresses.resolve(host, port)
        if not found:
            raise httpcore.ConnectError(f"{host} does not resolve to an address")
        if reason := addresses.refusal(host, found, self.policy):
            raise AddressRefused(reason)
        failure: Exception | None = None
        for address in found:  # each checked; the first that answers is used
            try:
                return open_tcp(str(address), port, **options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        raise failure

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise AddressRefused("a Unix socket is not an address users may reach")

    def sleep(self, seconds: float) -> None:
        httpcore.SyncBackend().sleep(seconds)


@contextmanager
def _httpx_errors() -> Iterator[None]:
    """httpcore's errors raised as httpx's of the same name (ReadTimeout as ReadTimeout ...),
    as httpx's own transport maps them, so callers catch what they always caught."""
    try:
        yield
    except Exception as exc:
        for cls in type(exc).__mro__:
            if not cls.__module__.startswith("httpcore"):
                continue
            mapped = getattr(httpx, cls.__name__, None)
            if isinstance(mapped, type) and issubclass(mapped, httpx.HTTPError):
                raise mapped(str(exc)) from exc
        raise


class _Body(httpx.SyncByteStream):
    def __init__(self, stream: Iterable[bytes]):
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        with _httpx_errors():
            yield from self._stream

    def close(self) -> None:
        if hasattr(self._stream, "close"):
            self._stream.close()


@lru_cache(maxsize=1)
def _tls_context():
    """httpx's default context (certifi's CAs), built once per process (about 260 ms)."""
    return httpx.create_ssl_context()


class GuardedTransport(httpx.BaseTransport):
    """httpx's HTTP/1.1 transport, over httpcore's pool, with the guarded network backend."""

    def __init__(self, policy: AddressPolicy, limits: httpx.Limits | None = None):
        # as the OpenAI SDK's own client: an account may allow up to 1000 requests in flight
        limits = limits or httpx.Limits(max_connections=1000, max_keepalive_connections=100)
        self._pool = httpcore.ConnectionPool(
            ssl_context=_tls_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(policy),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _httpx_errors():
            response = self._pool.handle_request(core_request)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_Body(response.stream),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self._pool.close()


class _NoRedirects(httpx.Client):
    """A client that follows no redirect, whatever a caller (an SDK) asks per request."""

    def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        kwargs["follow_redirects"] = False
        return super().send(request, **kwargs)


def guarded_client(policy: AddressPolicy, timeout: float, base_url: str = "") -> httpx.Client:
    return _NoRedirects(
        transport=GuardedTransport(policy),
        follow_redirects=False,
        trust_env=False,
        timeout=timeout,
        base_url=base_url,
    )
