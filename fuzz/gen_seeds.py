#!/usr/bin/env python3
"""Writes the seed inputs under fuzz/seeds/<target>/ (committed; rerun after changing
the input layout of a target). Layouts are described at the top of each target.

The harness client draws its Sec-WebSocket-Key from SeededRandom::new(1) (SplitMix64),
reimplemented here so that the handshake_client seeds carry the matching accept key.
"""

import base64
import hashlib
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
M64 = (1 << 64) - 1


def splitmix_bytes(seed, n):
    out = b""
    state = seed
    while len(out) < n:
        state = (state + 0x9E3779B97F4A7C15) & M64
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        z ^= z >> 31
        out += struct.pack("<Q", z)
    return out[:n]


def accept_key(key):
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()


CLIENT_KEY = base64.b64encode(splitmix_bytes(1, 16)).decode()
MASK = bytes([0x37, 0xFA, 0x21, 0x3D])


def frame(opcode, payload, fin=True, rsv1=False, mask=None):
    b0 = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    mbit = 0x80 if mask else 0
    n = len(payload)
    if n < 126:
        head = bytes([b0, mbit | n])
    elif n <= 0xFFFF:
        head = bytes([b0, mbit | 126]) + struct.pack(">H", n)
    else:
        head = bytes([b0, mbit | 127]) + struct.pack(">Q", n)
    if mask:
        payload = bytes(p ^ mask[i % 4] for i, p in enumerate(payload))
        head += mask
    return head + payload


def deflate_msg(data):
    c = zlib.compressobj(1, zlib.DEFLATED, -15)
    z = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
    assert z.endswith(b"\x00\x00\xff\xff")
    return z[:-4]


def frames(masked):
    """A conversation's worth of frames, masked (client to server) or not."""
    m = MASK if masked else None
    return {
        "text": frame(0x1, b"Hello", mask=m),
        "fragmented": frame(0x1, b"Hel", fin=False, mask=m)
        + frame(0x9, b"p", mask=m)
        + frame(0x0, "lo \u00e9\u20ac".encode()[:6], fin=False, mask=m)
        + frame(0x0, "lo \u00e9\u20ac".encode()[6:], mask=m),
        "binary16": frame(0x2, bytes(range(256)) * 2, mask=m),
        "binary64": frame(0x2, b"\xab" * 70000, mask=m)[:200],
        "ping_pong": frame(0x9, b"ping!", mask=m) + frame(0xA, b"pong", mask=m),
        "close": frame(0x8, struct.pack(">H", 1000) + b"bye", mask=m),
        "compressed": frame(
            0x1, deflate_msg(b"Hello Hello Hello compressed"), rsv1=True, mask=m
        )
        + frame(0x2, deflate_msg(b"\x00" * 5000), rsv1=True, mask=m),
        "bad_utf8": frame(0x1, b"ok \xc3\x28", mask=m),
        "too_big": frame(0x2, b"x" * 4097, mask=m)[:300],
    }


def write(target, name, data):
    d = os.path.join(HERE, "seeds", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    # frame_decoder: [flags, seed_lo, seed_hi, stream]
    for masked, side, flagsets in (
        (True, "server", [0x00, 0x10, 0x20, 0x3E]),
        (False, "client", [0x01, 0x31, 0x5B]),
    ):
        fr = frames(masked)
        for i, (name, data) in enumerate(fr.items()):
            flags = flagsets[i % len(flagsets)]
            write("frame_decoder", f"{side}_{name}", bytes([flags, i, 0]) + data)
        write(
            "frame_decoder",
            f"{side}_all",
            bytes([flagsets[-1], 7, 1]) + b"".join(fr.values()),
        )

    # handshake_server: [flags, seed_lo, seed_hi, request...]
    req = (
        "GET /chat?room=1 HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Origin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\n"
        "Sec-WebSocket-Version: 13\r\n"
    )
    deflate_offer = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits, x-webkit-deflate-frame\r\n"
    fr = frames(True)
    write(
        "handshake_server",
        "accept",
        bytes([0x03, 1, 0]) + (req + "\r\n").encode() + fr["text"],
    )
    write(
        "handshake_server",
        "accept_sub_deflate",
        bytes([0x83, 2, 0])
        + (req + deflate_offer + "\r\n").encode()
        + fr["compressed"]
        + fr["close"],
    )
    write(
        "handshake_server",
        "late_accept",
        bytes([0x17, 3, 0]) + (req + "\r\n").encode() + fr["ping_pong"],
    )
    write("handshake_server", "reject", bytes([0x0B, 4, 0]) + (req + "\r\n").encode())
    write("handshake_server", "close", bytes([0x2F, 5, 0]) + (req + "\r\n").encode())
    write(
        "handshake_server",
        "bad_version",
        bytes([0x01, 6, 0])
        + (req.replace("Version: 13", "Version: 8") + "\r\n").encode(),
    )
    write(
        "handshake_server",
        "post",
        bytes([0x02, 7, 0]) + (req.replace("GET", "POST") + "\r\n").encode(),
    )

    # handshake_client: [flags, seed_lo, seed_hi, response...]
    acc = accept_key(CLIENT_KEY)
    ok = f"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {acc}\r\n"
    fr = frames(False)
    write(
        "handshake_client",
        "ok",
        bytes([0x03, 1, 0]) + (ok + "\r\n").encode() + fr["text"] + fr["close"],
    )
    write(
        "handshake_client",
        "ok_sub",
        bytes([0x07, 2, 0])
        + (ok + "Sec-WebSocket-Protocol: chat\r\n\r\n").encode()
        + fr["fragmented"]
        + fr["ping_pong"],
    )
    write(
        "handshake_client",
        "ok_deflate",
        bytes([0x13, 3, 0])
        + (
            ok
            + "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_max_window_bits=10\r\n\r\n"
        ).encode()
        + fr["compressed"],
    )
    write(
        "handshake_client",
        "rejected_body",
        bytes([0x22, 4, 0])
        + b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 12\r\nWWW-Authenticate: Bearer\r\n\r\nno thank you",
    )
    write(
        "handshake_client",
        "wrong_accept",
        bytes([0x02, 5, 0])
        + (ok.replace(acc, "AAAAAAAAAAAAAAAAAAAAAAAAAAA=") + "\r\n").encode(),
    )
    write(
        "handshake_client",
        "close_early",
        bytes([0x83, 6, 0]) + (ok + "\r\n").encode() + fr["binary16"],
    )
    write("handshake_client", "url_v6", b"ws://[::1]:9001/chat?x=1")
    write("handshake_client", "url_wss", b"WSS://Example.COM:8443?q")


if __name__ == "__main__":
    main()
    print("client key", CLIENT_KEY, "accept", accept_key(CLIENT_KEY))
