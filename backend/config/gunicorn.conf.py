"""gunicorn settings, read from the environment (see README "Configuration")."""

import os

from taskscore.core.logs import logging_config

bind = f"{os.environ.get('API_HOST', '127.0.0.1')}:{os.environ.get('API_PORT', '8000')}"
workers = int(os.environ.get("WEB_WORKERS", "2"))
threads = int(os.environ.get("WEB_THREADS", "1"))
timeout = int(os.environ.get("WEB_TIMEOUT", "30"))
# gunicorn's own lines (starting, workers booted or killed) as the app's: LOG_FORMAT, LOG_LEVEL.
logconfig_dict = logging_config(
    log_format=os.environ.get("LOG_FORMAT", "json"), level=os.environ.get("LOG_LEVEL", "INFO")
)
# Each request has its access line from Django (taskscore.request: method, path, status,
# duration, request id); WEB_ACCESS_LOG=1 adds gunicorn's own (client address, user agent), in
# the same format.
if os.environ.get("WEB_ACCESS_LOG", "") not in ("", "0"):
    logconfig_dict["loggers"]["gunicorn.access"]["level"] = "INFO"
control_socket_disable = True
