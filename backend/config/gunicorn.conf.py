"""gunicorn settings, read from the environment (see README "Configuration")."""

import os

bind = f"{os.environ.get('API_HOST', '127.0.0.1')}:{os.environ.get('API_PORT', '8000')}"
workers = int(os.environ.get("WEB_WORKERS", "2"))
threads = int(os.environ.get("WEB_THREADS", "1"))
timeout = int(os.environ.get("WEB_TIMEOUT", "30"))
accesslog = os.environ.get("WEB_ACCESS_LOG", "-")
control_socket_disable = True
