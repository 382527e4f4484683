"""gzip for answers worth compressing, when the client says it accepts gzip (Accept-Encoding).

A 1,000-case batch answer is tens of megabytes of repetitive JSON; gzip makes it a small fraction
of that. Pure ASGI, like the other middlewares, and written for this service's answers rather than
taken from Starlette's GZipMiddleware, for three reasons:

- Streamed answers (the batch's JSON and NDJSON) stay streamed: every chunk the app sends is
  compressed and flushed at once (zlib's Z_SYNC_FLUSH), so the client can decode each entry as soon
  as it is computed, as without gzip. Starlette's keeps chunks in the compressor until it fills.
- Strong entity tags stay correct (app/caching.py): a gzip-coded answer is another representation,
  so its ETag gets `-gzip` inside the quotes; an If-None-Match holding such a tag is given to the app
  without the suffix, and a 304 answering it gets the suffix back.
- `Vary: Accept-Encoding` on every answer that could have been compressed, so no shared cache gives
  a gzip body to a client that did not ask for one (Starlette's adds it only when it compresses).

It sits inside HeadAsGet, so a HEAD request is compressed as its GET (same Content-Encoding and
Content-Length) and then loses its body. Small answers (under MIN_BYTES) and media that are already
compressed stay as they are."""

import zlib
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MIN_BYTES = 1024  # below this gzip saves little and costs the client a decoder
# zlib level 1: on a 1,000-case batch answer (61 MB) it keeps 20 % of the bytes for 0.36 s of CPU,
# where level 6 keeps 15 % for 1.3 s, over three times as long as computing the batch itself
# (`python -m bench.compression`; README Performance). CPU is what the server is short of.
LEVEL = 1
GZIP_SUFFIX = "-gzip"
_COMPRESSIBLE = frozenset({"application/json", "application/x-ndjson", "application/javascript", "image/svg+xml"})


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding value accepts gzip: `gzip` (or `x-gzip`) with a q above 0, or `*`
    with a q above 0 when gzip is not named."""
    named: float | None = None
    wildcard = 0.0
    for item in accept_encoding.split(","):
        coding, *params = item.split(";")
        coding = coding.strip().lower()
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = 0.0
        if coding in {"gzip", "x-gzip"}:
            named = max(q, named or 0.0)
        elif coding == "*":
            wildcard = max(q, wildcard)
    return (named if named is not None else wildcard) > 0.0


def compressible(content_type: str) -> bool:
    media = content_type.split(";")[0].strip().lower()
    return media in _COMPRESSIBLE or media.startswith("text/") or media.endswith("+json")


def _header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    return next((value for key, value in headers if key.lower() == name), None)


def _gzip_tag(tag: bytes) -> bytes:
    """A strong tag of the identity answer as the tag of its gzip coding (a weak tag stays as it is)."""
    if tag.startswith(b'"') and tag.endswith(b'"') and not tag.endswith(GZIP_SUFFIX.encode() + b'"'):
        return tag[:-1] + GZIP_SUFFIX.encode() + b'"'
    return tag


def _identity_tags(if_none_match: bytes) -> tuple[bytes, bool]:
    """If-None-Match with each `-gzip` tag as the app's own tag, and whether there was one."""
    suffix = GZIP_SUFFIX.encode() + b'"'
    tags = [t.strip() for t in if_none_match.split(b",")]
    restored = [t[: -len(suffix)] + b'"' if t.endswith(suffix) else t for t in tags]
    return b", ".join(restored), restored != tags


class GzipAnswers:
    def __init__(self, app: ASGIApp, minimum_size: int = MIN_BYTES, level: int = LEVEL) -> None:
        self.app = app
        self.minimum_size = minimum_size
        self.level = level

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = list(scope.get("headers", ()))
        gzip_ok = accepts_gzip(b",".join(v for k, v in headers if k == b"accept-encoding").decode("latin-1"))
        held_gzip_tag = False
        if gzip_ok and (if_none_match := _header(headers, b"if-none-match")) is not None:
            restored, held_gzip_tag = _identity_tags(if_none_match)
            if held_gzip_tag:
                headers = [(k, restored if k == b"if-none-match" else v) for k, v in headers]
                scope = {**scope, "headers": headers}
        await self.app(scope, receive, _Responder(send, gzip_ok, held_gzip_tag, self.minimum_size, self.level))


class _Responder:
    """The `send` of one request: holds the start of the answer until its first body chunk says
    whether to compress, then compresses every chunk (or none)."""

    def __init__(self, send: Send, gzip_ok: bool, held_gzip_tag: bool, minimum_size: int, level: int) -> None:
        self.send = send
        self.gzip_ok = gzip_ok
        self.held_gzip_tag = held_gzip_tag
        self.minimum_size = minimum_size
        self.level = level
        self.start: Message | None = None
        self.compressor: zlib._Compress | None = None
        self.decided = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.start = message
        elif message["type"] == "http.response.body" and not self.decided:
            self.decided = True
            await self._first_body(message)
        elif self.compressor is not None and message["type"] == "http.response.body":
            more = message.get("more_body", False)
            chunk = self.compressor.compress(message.get("body", b""))
            chunk += self.compressor.flush(zlib.Z_SYNC_FLUSH if more else zlib.Z_FINISH)
            await self.send({"type": "http.response.body", "body": chunk, "more_body": more})
        else:
            if not self.decided and self.start is not None:  # an answer without a body message (pathsend)
                self.decided = True
                await self.send(self.start)
            await self.send(message)

    def _candidate(self, status: int, headers: list[tuple[bytes, bytes]], first: bytes, more: bool) -> bool:
        """Whether this answer is worth compressing for a client that accepts gzip."""
        return (
            status >= 200
            and status not in (204, 304)
            and _header(headers, b"content-encoding") is None
            and compressible((_header(headers, b"content-type") or b"").decode("latin-1"))
            and (more or len(first) >= self.minimum_size)
        )

    async def _first_body(self, message: Message) -> None:
        assert self.start is not None
        start, body, more = self.start, message.get("body", b""), message.get("more_body", False)
        headers: list[tuple[bytes, bytes]] = list(start.get("headers", ()))
        status: int = start["status"]
        if status == 304 and self.held_gzip_tag:  # the client holds the gzip coding: name its tag
            headers = _add_vary(_with_gzip_tag(headers))
        candidate = self._candidate(status, headers, body, more)
        if candidate:
            headers = _add_vary(headers)
        if not (candidate and self.gzip_ok):
            await self.send({**start, "headers": headers})
            await self.send(message)
            return
        headers = [(k, v) for k, v in _with_gzip_tag(headers) if k.lower() != b"content-length"]
        headers.append((b"content-encoding", b"gzip"))
        self.compressor = zlib.compressobj(self.level, zlib.DEFLATED, 31)  # 31: gzip header and trailer
        if more:  # streamed: no length; each chunk compressed and flushed as it comes
            await self.send({**start, "headers": headers})
            await self(message)
            return
        compressed = self.compressor.compress(body) + self.compressor.flush(zlib.Z_FINISH)
        headers.append((b"content-length", str(len(compressed)).encode()))
        await self.send({**start, "headers": headers})
        await self.send({"type": "http.response.body", "body": compressed, "more_body": False})


def _with_gzip_tag(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    return [(k, _gzip_tag(v) if k.lower() == b"etag" else v) for k, v in headers]


def _add_vary(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    vary = _header(headers, b"vary")
    if vary is None:
        return [*headers, (b"vary", b"Accept-Encoding")]
    if b"accept-encoding" in vary.lower() or vary.strip() == b"*":
        return headers
    return [(k, v + b", Accept-Encoding" if k.lower() == b"vary" else v) for k, v in headers]
