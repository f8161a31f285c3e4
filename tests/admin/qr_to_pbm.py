#!/usr/bin/python3
"""Turns the terminal QR code printed by `twofactor-admin enroll` back into
a PBM image, so the test can check with zbarimg that a camera would read the
same URI the tool printed. Reads the tool's stdout on stdin; argv[1] is the
style (utf8 or ansi), argv[2] the output file.

utf8: a full block is two light modules, an upper/lower half block one, a
space none (the terminal background is taken as dark). ansi: every cell is
an upper half block whose foreground colour is the top module and whose
background colour is the bottom one (97/107 light, 30/40 dark).
"""
import re
import sys

SCALE = 4
SGR = re.compile(r"\x1b\[([0-9;]*)m")


def utf8_rows(lines):
    cells = {"\u2588": (1, 1), "\u2580": (1, 0), "\u2584": (0, 1), " ": (0, 0)}
    rows = []
    for line in lines:
        if not line or any(c not in cells for c in line):
            continue
        top = [cells[c][0] for c in line]
        bottom = [cells[c][1] for c in line]
        rows += [top, bottom]
    return rows


def ansi_rows(lines):
    rows = []
    for line in lines:
        if "\x1b[" not in line:
            continue
        top, bottom = [], []
        fg, bg = 30, 40
        pos = 0
        while pos < len(line):
            m = SGR.match(line, pos)
            if m:
                codes = [int(c) for c in m.group(1).split(";") if c]
                for c in codes:
                    if c in (30, 97):
                        fg = c
                    elif c in (40, 107, 49):
                        bg = c
                pos = m.end()
                continue
            if line[pos] == "\u2580":
                top.append(1 if fg == 97 else 0)
                bottom.append(1 if bg == 107 else 0)
            pos += 1
        rows += [top, bottom]
    return rows


def main():
    style, out = sys.argv[1], sys.argv[2]
    lines = sys.stdin.read().split("\n")
    rows = utf8_rows(lines) if style == "utf8" else ansi_rows(lines)
    if not rows:
        sys.exit("no QR code found")
    width = max(len(r) for r in rows)
    with open(out, "w") as f:
        f.write("P1\n%d %d\n" % (width * SCALE, len(rows) * SCALE))
        for r in rows:
            # PBM: 1 is black. A light module is white.
            line = " ".join("0" if (x < len(r) and r[x]) else "1" for x in range(width) for _ in range(SCALE))
            for _ in range(SCALE):
                f.write(line + "\n")


main()
