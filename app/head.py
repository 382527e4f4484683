"""HEAD wherever GET is served (HTTP semantics): a HEAD request is routed as a GET and answered with
the GET's status and headers, Content-Length included, and no body. FastAPI registers GET routes for
GET only (HEAD would be a 405), and declaring HEAD on every route would add an operation per path to
the OpenAPI document; one middleware keeps the document as it is."""

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return  # a streamed body: drop every chunk, end once
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)
