#!/usr/bin/env python3
"""An SRT caller that closes the moment its data is acknowledged.

    srt_close_at_ack.py HOST PORT FILE [COUNT]

Sends FILE (COUNT times, each on a new connection, default once) over live SRT in messages of at most 1316 bytes (libsrt itself,
through ctypes: no netdisp code), waits until the send buffer is empty (the
receiver acknowledged every packet), then closes at once. SRT acknowledges a
packet when it arrives and hands it to the reading application only at its
delivery time, a latency later: a receiver that treats the close as the end
without reading its buffer empty loses the tail. Exit 0 when acknowledged,
1 with one line on stderr otherwise.
"""
import ctypes
import ctypes.util
import socket
import struct
import sys
import time


def load():
    for name in ("srt-gnutls", "srt-openssl", "srt"):
        path = ctypes.util.find_library(name)
        if path:
            return ctypes.CDLL(path)
    sys.exit("srt_close_at_ack: libsrt not found")


def send(srt, host, port, data):
    sock = srt.srt_create_socket()
    address = struct.pack("=HH4s8x", socket.AF_INET, socket.htons(port), socket.inet_aton(host))
    if srt.srt_connect(sock, address, len(address)) < 0:
        sys.exit("srt_close_at_ack: connect: " + srt.srt_getlasterror_str().decode())
    for start in range(0, len(data), 1316):
        piece = data[start:start + 1316]
        if srt.srt_sendmsg2(sock, piece, len(piece), None) < 0:
            sys.exit("srt_close_at_ack: send: " + srt.srt_getlasterror_str().decode())
    blocks, left = ctypes.c_size_t(0), ctypes.c_size_t(1)
    deadline = time.monotonic() + 10
    while left.value and time.monotonic() < deadline:
        if srt.srt_getsndbuffer(sock, ctypes.byref(blocks), ctypes.byref(left)) < 0:
            sys.exit("srt_close_at_ack: " + srt.srt_getlasterror_str().decode())
        time.sleep(0.002)  # poll step until the deadline (libsrt has no acknowledgement event)
    srt.srt_close(sock)
    if left.value:
        sys.exit(f"srt_close_at_ack: {left.value} bytes not acknowledged in 10 s")


def main():
    host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    count = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    data = open(path, "rb").read()
    srt = load()
    srt.srt_getlasterror_str.restype = ctypes.c_char_p
    srt.srt_startup()
    for _ in range(count):
        send(srt, host, port, data)
    srt.srt_cleanup()


if __name__ == "__main__":
    main()
