"""The synchronous websocket-client API against a real local server."""

from __future__ import annotations

import json
import socket
import struct
import threading

import pytest

import steadysock as websocket

from wsserver import Server


def test_echo_text_and_binary(server: Server) -> None:
    ws = websocket.create_connection(server.url + "/echo", timeout=5)
    assert ws.connected and ws.status == 101 and ws.getstatus() == 101
    assert ws.headers is not None and ws.headers["x-test"] == "yes"
    assert ws.send("héllo") > 0
    assert ws.recv() == "héllo"
    ws.send_binary(b"\x00\x01\xff")
    assert ws.recv() == b"\x00\x01\xff"
    ws.send_bytes(bytearray(b"ba"))
    assert ws.recv_data() == (websocket.ABNF.OPCODE_BINARY, b"ba")
    ws.send("text as frame")
    opcode, frame = ws.recv_data_frame()
    assert opcode == websocket.ABNF.OPCODE_TEXT and frame.data == b"text as frame" and frame.fin == 1
    ws.close()
    assert not ws.connected and ws.sock is None
    assert ws.close_frame is not None and struct.unpack("!H", ws.close_frame.data[:2])[0] == 1000


def test_large_messages_both_ways(server: Server) -> None:
    ws = websocket.create_connection(server.url + "/echo", timeout=10)
    blob = bytes(range(256)) * 4096  # 1 MiB: framed and masked with the GIL released
    ws.send_binary(blob)
    assert ws.recv() == blob
    text = "ü" * 300_000
    ws.send(text)
    assert ws.recv() == text
    ws.close()


def test_fragmented_send_frame_arrives_as_one_message(server: Server) -> None:
    ws = websocket.create_connection(server.url + "/echo", timeout=5)
    ws.send_frame(websocket.ABNF.create_frame("Brevity is ", websocket.ABNF.OPCODE_TEXT, 0))
    ws.send_frame(websocket.ABNF.create_frame("the soul of wit", websocket.ABNF.OPCODE_CONT, 1))
    assert ws.recv() == "Brevity is the soul of wit"
    ws.close()


def test_request_headers_origin_cookie_and_custom(server: Server) -> None:
    ws = websocket.create_connection(server.url + "/headers", header=["X-One: 1", "X-Two:two"], cookie="a=b", timeout=5)
    seen = json.loads(ws.recv())
    assert seen["origin"] == f"http://127.0.0.1:{server.port}"
    assert seen["x-one"] == "1" and seen["x-two"] == "two" and seen["cookie"] == "a=b"
    assert seen["sec-websocket-version"] == "13"
    ws.close()
    ws = websocket.create_connection(
        server.url + "/headers", header={"X-Dict": "d", "X-None": None}, origin="https://app.example", timeout=5
    )
    seen = json.loads(ws.recv())
    assert seen["origin"] == "https://app.example" and seen["x-dict"] == "d" and "x-none" not in seen
    ws.close()
    ws = websocket.create_connection(server.url + "/headers", suppress_origin=True, timeout=5)
    assert "origin" not in json.loads(ws.recv())
    ws.close()


def test_subprotocol_negotiated(server: Server) -> None:
    ws = websocket.create_connection(server.url + "/subprotocol", subprotocols=["chat", "superchat"], timeout=5)
    assert ws.subprotocol == "chat" and ws.getsubprotocol() == "chat"
    ws.close()


def test_bad_accept_key_raises_invalid_header(server: Server) -> None:
    with pytest.raises(websocket.WebSocketException, match="Invalid WebSocket Header"):
        websocket.create_connection(server.url + "/bad-accept", timeout=5)


def test_redirect_is_followed_within_the_limit(server: Server) -> None:
    ws = websocket.create_connection(server.url + "/redirect", timeout=5)
    ws.send("after redirect")
    assert ws.recv() == "after redirect"
    ws.close()
    with pytest.raises(websocket.WebSocketException, match="Redirect limit exhausted"):
        websocket.create_connection(server.url + "/redirect", timeout=5, redirect_limit=0)


def test_401_raises_bad_status_with_response(server: Server) -> None:
    with pytest.raises(websocket.WebSocketBadStatusException) as info:
        websocket.create_connection(server.url + "/unauthorized", timeout=5)
    e = info.value
    assert e.status_code == 401 and e.status_message == "Unauthorized"
    assert e.resp_headers is not None and e.resp_headers["www-authenticate"] == "Bearer"
    assert e.resp_body == b"no token"
    assert str(e).startswith("Handshake status 401 Unauthorized -+-+- ")


def test_server_close_is_returned_then_connection_is_closed(server: Server) -> None:
    ws = websocket.create_connection(server.url + "/close-1001", timeout=5)
    opcode, data = ws.recv_data()
    assert opcode == websocket.ABNF.OPCODE_CLOSE
    assert struct.unpack("!H", data[:2])[0] == 1001 and data[2:] == b"going away"
    assert not ws.connected
    with pytest.raises(websocket.WebSocketConnectionClosedException):
        ws.recv()
    with pytest.raises(websocket.WebSocketConnectionClosedException):
        ws.send("too late")


def test_ping_pong_and_control_frames(server: Server) -> None:
    ws = websocket.create_connection(server.url + "/ping-then-echo", timeout=5)
    # The server's ping was answered by the core: the server reports the pong.
    assert ws.recv_data(control_frame=True) == (websocket.ABNF.OPCODE_PING, b"hb")
    assert ws.recv() == "pong:hb"
    ws.ping("are you there")
    assert ws.recv_data(control_frame=True) == (websocket.ABNF.OPCODE_PONG, b"are you there")
    with pytest.raises(websocket.WebSocketProtocolException):
        ws.ping(b"x" * 126)
    ws.close()


def test_recv_timeout_then_data_still_arrives(server: Server) -> None:
    ws = websocket.create_connection(server.url + "/echo", timeout=0.2)
    assert ws.gettimeout() == 0.2 and ws.timeout == 0.2
    with pytest.raises(websocket.WebSocketTimeoutException):
        ws.recv()
    ws.send("late")
    assert ws.recv() == "late"
    ws.close()


def test_iteration_and_threads(server: Server) -> None:
    ws = websocket.create_connection(server.url + "/echo", timeout=5)
    got: list[object] = []

    def reader() -> None:
        for message in ws:
            got.append(message)
            if len(got) == 20:
                return

    t = threading.Thread(target=reader)
    t.start()
    for i in range(20):
        ws.send(str(i))
    t.join(10)
    assert got == [str(i) for i in range(20)]
    ws.close()


def test_close_validates_status_and_is_idempotent(server: Server) -> None:
    ws = websocket.create_connection(server.url + "/echo", timeout=5)
    with pytest.raises(ValueError):
        ws.close(status=70000)
    ws.close(reason="bye")
    ws.close()
    assert ws.sock is None


def test_pre_connected_socket_option(server: Server) -> None:
    sock = socket.create_connection(("127.0.0.1", server.port))
    ws = websocket.create_connection(server.url + "/echo", socket=sock, timeout=5)
    assert ws.sock is sock
    ws.send("via my socket")
    assert ws.recv() == "via my socket"
    ws.close()


def test_connection_refused_is_the_socket_error() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()
    with pytest.raises(ConnectionRefusedError):
        websocket.create_connection(f"ws://127.0.0.1:{port}/", timeout=5)


def test_invalid_url_is_value_error() -> None:
    with pytest.raises(ValueError):
        websocket.create_connection("http://example.com/")


def test_permessage_deflate_is_offered_unless_turned_off(server: Server) -> None:
    for enable, offered in ((True, True), (False, False)):
        ws = websocket.create_connection(server.url + "/echo", timeout=5, enable_deflate=enable)
        ws.send("x")
        assert ws.recv() == "x"
        ws.close()
        assert ("sec-websocket-extensions" in server.requests[-1]) is offered


def test_host_suppress_host_and_connection_override_the_request_headers(server: Server) -> None:
    ws = websocket.create_connection(
        server.url + "/echo", timeout=5, host="example.test", connection="keep-alive, Upgrade"
    )
    ws.close()
    assert server.requests[-1]["host"] == "example.test"
    assert server.requests[-1]["connection"] == "keep-alive, Upgrade"
    ws = websocket.create_connection(server.url + "/echo", timeout=5, suppress_host=True)
    ws.close()
    assert "host" not in server.requests[-1]
    with pytest.raises(websocket.WebSocketException):
        websocket.create_connection(server.url + "/echo", timeout=5, connection="keep-alive")


def test_app_host_and_origin_options_reach_the_server(server: Server) -> None:
    def on_open(app: websocket.WebSocketApp) -> None:
        app.close()

    app = websocket.WebSocketApp(server.url + "/echo", on_open=on_open)
    app.run_forever(host="example.test", origin="https://origin.test")
    assert server.requests[-1]["host"] == "example.test"
    assert server.requests[-1]["origin"] == "https://origin.test"


def test_get_mask_key_masks_the_frames_of_a_real_connection(server: Server) -> None:
    ws = websocket.WebSocket(get_mask_key=lambda n: b"\x01\x02\x03\x04")
    ws.connect(server.url + "/mask-keys", timeout=5)
    ws.send("x")
    assert ws.recv() == "01020304"
    ws.set_mask_key(lambda n: "wxyz")
    ws.send_binary(b"y")
    assert ws.recv() == b"wxyz".hex()
    ws.close()
