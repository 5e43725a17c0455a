"""The web interface: REST API, citizen chat and widget, hotline agent console, editor console."""

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no calls home from a government server
