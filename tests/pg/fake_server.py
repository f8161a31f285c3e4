#!/usr/bin/python3
"""A local user's fake PostgreSQL server, for test_local_user.sh.

    fake_server.py unix PATH CAPTURE UID | tcp PORT CAPTURE UID

Binds PATH (a Unix socket; @NAME an abstract one) or 127.0.0.1:PORT, then
listens as UID (the peer credentials a client sees are the listener's),
prints "ready", and asks every client for its password in clear, as a
server may: libpq 15 sends it. Whatever the clients send back is appended to CAPTURE. TLS and
GSS encryption requests are answered "no". Runs until killed.
"""
import os
import socket
import struct
import sys

SSL_REQUEST, GSSENC_REQUEST = 80877103, 80877104


def read_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise OSError("closed")
        data += chunk
    return data


def serve(conn, out):
    conn.settimeout(5)
    while True:  # the startup packet, after any encryption request
        (length,) = struct.unpack("!I", read_exact(conn, 4))
        body = read_exact(conn, length - 4)
        if length == 8 and struct.unpack("!I", body)[0] in (SSL_REQUEST, GSSENC_REQUEST):
            conn.sendall(b"N")
            continue
        break
    conn.sendall(b"R" + struct.pack("!II", 8, 3))  # AuthenticationCleartextPassword
    read_exact(conn, 1)
    (length,) = struct.unpack("!I", read_exact(conn, 4))
    answer = read_exact(conn, length - 4)
    out.write(answer + b"\n")
    fields = b"SFATAL\0C28P01\0Mno\0\0"
    conn.sendall(b"E" + struct.pack("!I", 4 + len(fields)) + fields)


def main():
    kind, where, capture, uid = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    if kind == "unix":
        listener = socket.socket(socket.AF_UNIX)
        listener.bind("\0" + where[1:] if where.startswith("@") else where)  # @: an abstract name
    else:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", int(where)))
    out = open(capture, "ab", buffering=0)
    os.setgid(uid)
    os.setuid(uid)
    listener.listen(16)
    print("ready", flush=True)
    while True:
        conn, _ = listener.accept()
        with conn:
            try:
                serve(conn, out)
            except OSError:
                pass


main()
