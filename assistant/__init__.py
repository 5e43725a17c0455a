"""The assistant's public API: what the layers above it (demand/, ui/) may use without reaching inside.

Names load on first use (PEP 562): `import assistant.settings`, which every `govqa` command does,
should not pay over a second for the answering pipeline (the retriever, langchain) it may never use.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.demand_log import DemandLog
    from assistant.service import Answer, Assistant
    from assistant.settings import Settings
    from assistant.sqlite_local import PerThreadSQLite

_HOMES = {
    "Answer": "assistant.service",
    "Assistant": "assistant.service",
    "DemandLog": "assistant.demand_log",
    "PerThreadSQLite": "assistant.sqlite_local",   # the topic store keeps its SQLite the way the demand log does
    "Settings": "assistant.settings",
}
__all__ = ["Answer", "Assistant", "DemandLog", "PerThreadSQLite", "Settings"]


def __getattr__(name: str) -> object:
    if name not in _HOMES:
        raise AttributeError(f"module 'assistant' has no attribute {name!r}")
    return getattr(import_module(_HOMES[name]), name)
