"""API v2: the org in the path, sessions or API keys, cursor pagination, score breakdowns."""

from taskscore.api.common.auth import ApiKeyAuth, BrowserSessionAuth
from taskscore.api.common.errors import install_error_handlers
from taskscore.api.common.openapi import TaskscoreAPI
from taskscore.api.v2 import access, account, data_rights, reviews, scoring, tasks
from taskscore.api.v2 import billing as billing_api
from taskscore.api.v2.links import LINKS

api = TaskscoreAPI(
    title="Taskscore API",
    version="2.0.0",
    description="Submit tasks and read their scores. Errors are RFC 9457 problem JSON.",
    urls_namespace="api-v2",
    auth=[ApiKeyAuth(), BrowserSessionAuth()],
    docs_url="/docs",
    links=LINKS,
)
install_error_handlers(api)
api.add_router("", account.router)
api.add_router("", tasks.router)
api.add_router("", reviews.router)
api.add_router("", scoring.router)
api.add_router("", access.router)
api.add_router("", billing_api.router)
api.add_router("", data_rights.router)
