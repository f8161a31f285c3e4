#!/usr/bin/python3
"""Fills a state directory with N copies of one real state file (made by
twofactor-admin), renamed user00000... The list test needs many users, not
many real accounts or KDF runs: list does not care whether a user exists or
whether two users share a salt. Usage: make_users.py TEMPLATE DIR N"""
import os
import sys

template, directory, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(template) as f:
    lines = f.read().split("\n")
user_line = [i for i, l in enumerate(lines) if l.startswith("user ")]
assert len(user_line) == 1, "template has no single user line"
for n in range(count):
    name = "user%05d" % n
    lines[user_line[0]] = "user " + name
    fd = os.open(os.path.join(directory, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(lines))
