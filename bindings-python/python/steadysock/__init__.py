"""steadysock: a websocket-client compatible WebSocket client on a Rust protocol core.

``import steadysock as websocket`` runs code written for websocket-client: the same
names, options and exceptions. Sockets and TLS are Python's; the handshake, framing,
masking, UTF-8 validation and closing handshake run in the Rust core
(``steadysock._core``).
"""

from ._abnf import *  # noqa: F403
from ._abnf import ABNF as ABNF
from ._app import WebSocketApp as WebSocketApp
from ._app import set_reconnect as set_reconnect
from ._exceptions import *  # noqa: F403
from ._logging import *  # noqa: F403
from ._socket import *  # noqa: F403
from ._websocket import WebSocket as WebSocket
from ._websocket import create_connection as create_connection

__version__ = "0.1.0"
