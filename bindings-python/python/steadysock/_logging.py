"""Logging through the ``steadysock`` logger, with websocket-client's helper names.

``enableTrace(True)`` attaches a handler and logs what websocket-client's trace logs:
the request and response heads and every frame sent and received.
"""

from __future__ import annotations

import logging
from typing import Optional

_logger = logging.getLogger("steadysock")
_logger.addHandler(logging.NullHandler())
_trace_enabled = False
_trace_handler: Optional[logging.Handler] = None
_default_level = _logger.getEffectiveLevel()

__all__ = [
    "enableTrace",
    "dump",
    "error",
    "warning",
    "debug",
    "info",
    "trace",
    "isEnabledForError",
    "isEnabledForDebug",
    "isEnabledForTrace",
]


def enableTrace(traceable: bool, handler: Optional[logging.Handler] = None, level: str = "DEBUG") -> None:
    """Turns tracing on (with ``handler``, default a ``StreamHandler``) or off."""
    global _trace_enabled, _trace_handler
    if traceable:
        if handler is None:
            handler = logging.StreamHandler()
        if _trace_handler is not None and _trace_handler in _logger.handlers:
            _logger.removeHandler(_trace_handler)
        _trace_handler = handler
        if handler not in _logger.handlers:
            _logger.addHandler(handler)
        _logger.setLevel(getattr(logging, level))
        _trace_enabled = True
    else:
        _trace_enabled = False
        if _trace_handler is not None and _trace_handler in _logger.handlers:
            _logger.removeHandler(_trace_handler)
        _trace_handler = None
        _logger.setLevel(_default_level)


def dump(title: str, message: str) -> None:
    if _trace_enabled:
        _logger.debug(f"--- {title} ---")
        _logger.debug(message)
        _logger.debug("-----------------------")


def error(msg: str) -> None:
    _logger.error(msg)


def warning(msg: str) -> None:
    _logger.warning(msg)


def debug(msg: str) -> None:
    _logger.debug(msg)


def info(msg: str) -> None:
    _logger.info(msg)


def trace(msg: str) -> None:
    if _trace_enabled:
        _logger.debug(msg)


def isEnabledForError() -> bool:
    return _logger.isEnabledFor(logging.ERROR)


def isEnabledForDebug() -> bool:
    return _logger.isEnabledFor(logging.DEBUG)


def isEnabledForTrace() -> bool:
    return _trace_enabled
