# A stand-in for the system logger: receives syslog datagrams on a Unix
# socket (bound over /dev/log inside the test's mount namespaces) and
# appends each as one line to a file, so the test can read the audit trail.
# Usage: /usr/bin/python3 syslog_sink.py SOCKET LOGFILE
import os
import socket
import sys

path, logfile = sys.argv[1], sys.argv[2]
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(path)
os.chmod(path, 0o666)  # like /dev/log: the tool logs with the user's effective uid too
with open(logfile, "ab", buffering=0) as out:
    while True:
        data = sock.recv(65536)
        out.write(data.replace(b"\n", b" ").rstrip(b"\0") + b"\n")
