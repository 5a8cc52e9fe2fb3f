#!/usr/bin/env python3
"""Writes a newc (SVR4, no CRC) cpio archive for an initramfs, without root:
directories and device nodes are described, not taken from the file system.

    mkcpio.py OUT.cpio ARCHIVE_PATH=HOST_FILE ...

Always adds /dev, /dev/console (c 5 1), /proc, /sys, /tmp, /bin. Every
HOST_FILE is stored with mode 0755 and its parent directories are created."""
import os
import sys


def entry(out, ino, name, mode, data=b"", rdev=(0, 0)):
    name_b = name.encode() + b"\0"
    hdr = "070701" + "".join(
        "%08X" % v
        for v in (ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(name_b), 0)
    )
    out += hdr.encode() + name_b
    out += b"\0" * (-len(out) % 4)
    out += data
    out += b"\0" * (-len(out) % 4)


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    dirs = {"dev", "proc", "sys", "tmp", "bin"}
    files = []
    for spec in argv[2:]:
        dst, src = spec.split("=", 1)
        dst = dst.strip("/")
        files.append((dst, src))
        parts = dst.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            dirs.add("/".join(parts[:i]))
    out = bytearray()
    ino = 1
    for d in sorted(dirs):
        entry(out, ino, d, 0o040755)
        ino += 1
    entry(out, ino, "dev/console", 0o020600, rdev=(5, 1))
    ino += 1
    for dst, src in files:
        with open(src, "rb") as f:
            entry(out, ino, dst, 0o100755, f.read())
        ino += 1
    entry(out, 0, "TRAILER!!!", 0)
    out += b"\0" * (-len(out) % 512)
    tmp = argv[1] + ".tmp"
    with open(tmp, "wb") as f:
        f.write(out)
    os.replace(tmp, argv[1])


if __name__ == "__main__":
    main(sys.argv)
