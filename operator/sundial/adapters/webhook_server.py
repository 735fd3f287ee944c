"""The admission webhooks' HTTPS server: AdmissionReview JSON in, AdmissionReview JSON out.

aiohttp (already there for kopf) in the operator's own process, so the handlers read the
operator's indexes directly. kopf's own admission support registers the webhook configurations
itself and has no certificate reload; Sundial leaves registration to the Helm chart (or
``sundial dev``) and reloads the certificate when its files change, so cert-manager's
rotation needs no restart: the files are polled every few seconds (a mounted Secret is
swapped by a symlink, which changes the files' modification time), and new TLS handshakes
use the new pair. A pair that does not load is logged and the old one kept.

The server runs on its own thread and event loop: a review never queues behind kopf's
handlers (a burst of creates is also a burst of reconciles). The review callables only read
the operator's indexes (``controller.schedule_index``), whose buckets a ``list()`` copies in one
step under the GIL.

Routes: ``POST /validate``, ``POST /mutate``, ``POST /finalizer`` and ``GET /healthz``. What to answer is decided
by callables given by the caller (``controller.admission``); this module knows only HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import ssl
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

Review = Callable[[Mapping[str, Any]], dict[str, Any]]  # AdmissionReview in -> AdmissionReview out
log = logging.getLogger("sundial.webhook")


def _stamp(paths: tuple[Path, ...]) -> tuple[tuple[int, int], ...]:
    return tuple((path.stat().st_mtime_ns, path.stat().st_size) for path in paths)


@dataclass
class WebhookServer:
    """Serves ``validate`` at /validate, ``mutate`` at /mutate and ``add_finalizer`` at /finalizer over TLS
    from two PEM files."""

    host: str
    port: int
    cert_file: Path
    key_file: Path
    validate: Review
    mutate: Review
    add_finalizer: Review
    reload_seconds: float = 5.0
    reloads: int = 0
    _context: ssl.SSLContext = field(init=False)
    _stamped: tuple[tuple[int, int], ...] = ()
    _runner: web.AppRunner | None = None
    _watcher: asyncio.Task[None] | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None

    def __post_init__(self) -> None:
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.minimum_version = ssl.TLSVersion.TLSv1_2
        self._load()

    def _load(self) -> None:
        stamped = _stamp((self.cert_file, self.key_file))
        self._context.load_cert_chain(self.cert_file, self.key_file)
        self._stamped = stamped

    def reload_if_changed(self) -> bool:
        """Load the pair again when either file changed; True when a new pair is in use."""
        try:
            if _stamp((self.cert_file, self.key_file)) == self._stamped:
                return False
            self._load()
        except (OSError, ssl.SSLError) as exc:  # half-written during a rotation: try again next time
            log.warning(f"webhook certificate not reloaded (keeping the previous one): {exc}")
            return False
        self.reloads += 1
        log.info(f"webhook certificate reloaded from {self.cert_file}")
        return True

    async def start(self) -> None:
        """Listen, on a thread of its own; returns once the port is open (or raises why not)."""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="sundial-webhooks", daemon=True)
        self._thread.start()
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self._serve(), self._loop))

    async def close(self) -> None:
        if self._loop is None or self._thread is None:
            return
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self._stop(), self._loop))
        self._loop.call_soon_threadsafe(self._loop.stop)
        await asyncio.to_thread(self._thread.join, 10)
        self._loop.close()
        self._loop = self._thread = None

    async def _serve(self) -> None:
        app = web.Application(client_max_size=3 * 1024 * 1024)  # an AdmissionReview of a large object
        app.router.add_post("/validate", self._handler(self.validate))
        app.router.add_post("/mutate", self._handler(self.mutate))
        app.router.add_post("/finalizer", self._handler(self.add_finalizer))
        app.router.add_get("/healthz", self._healthz)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port, ssl_context=self._context).start()
        self._watcher = asyncio.create_task(self._watch(), name="webhook certificate reload")
        log.info(f"admission webhooks on https://{self.host}:{self.port} (/validate, /mutate, /finalizer)")

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.reload_seconds)
            self.reload_if_changed()

    async def _stop(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        if self._runner is not None:
            await self._runner.cleanup()

    @staticmethod
    async def _healthz(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    @staticmethod
    def _handler(review: Review) -> Callable[[web.Request], Any]:
        async def handle(request: web.Request) -> web.Response:
            try:
                body = json.loads(await request.read())
                if not isinstance(body, dict) or not isinstance(body.get("request"), dict):
                    raise ValueError("not an AdmissionReview: no request object")
            except ValueError as exc:
                return web.json_response({"error": f"bad AdmissionReview: {exc}"}, status=400)
            return web.json_response(review(body))

        return handle
