"""The stand-in's aiohttp application: localstripe's routes, the routes it lacks (`api`), the
pages (`site`), and the middlewares (errors as Stripe's JSON, API keys, idempotency)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import suppress

from aiohttp import web
from localstripe import server as ls_server  # type: ignore[import-untyped]
from localstripe.webhooks import register_webhook  # type: ignore[import-untyped]

from taskscore.testing.stripe_standin import api, middleware, portal, site
from taskscore.testing.stripe_standin.config import StandinConfig, config_from_args
from taskscore.testing.stripe_standin.state import Standin

# localstripe's routes the stand-in serves itself.
REPLACED_ROUTES = frozenset({("DELETE", "/_config/data")})


def create_app(config: StandinConfig) -> web.Application:
    """The application, with localstripe's module state taken over (one stand-in per process:
    localstripe keeps its store in module globals)."""
    standin = Standin(config)
    standin.install()
    if config.webhook_url:
        register_webhook("taskscore", config.webhook_url, config.webhook_secret, None)
    app = web.Application(
        middlewares=[
            ls_server.error_middleware,
            middleware.changes_middleware,
            middleware.auth_middleware,
            middleware.idempotency_middleware,
        ]
    )
    app[api.STANDIN] = standin
    app[middleware.IDEMPOTENCY] = middleware.IdempotencyCache()
    api.add_routes(app)
    site.add_routes(app)
    portal.add_routes(app)
    for route in ls_server.app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if route.method == "HEAD" or (route.method, path) in REPLACED_ROUTES:
            continue
        app.router.add_route(route.method, path, route.handler)

    async def saver(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(standin.save_while_running())
        yield
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
        await standin.deliverer.close()

    app.cleanup_ctx.append(saver)
    return app


def main(argv: Sequence[str] | None = None) -> None:
    """Serve on loopback until interrupted; prints one JSON line once it listens."""
    config = config_from_args(sys.argv[1:] if argv is None else argv, os.environ)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    ready = json.dumps(
        {"stripe_standin": config.base_url, "webhook": config.webhook_url or None,
         "checkout": f"{config.base_url}/checkout/<session>",
         "portal": f"{config.base_url}/portal/<session>"}
    )  # fmt: skip
    web.run_app(
        create_app(config),
        host=config.host,
        port=config.port,
        print=lambda _message: print(ready, flush=True),
    )
