#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (fuzz/corpus/*): a few well-formed inputs
each, from which the fuzzers mutate. Run from the repository root:
    python3 fuzz/make_seeds.py
The layouts are <linux/fuse.h>'s and the framing each target's header comment gives."""
import os
import struct

FUSE_LOOKUP, FUSE_GETATTR, FUSE_SETATTR, FUSE_READLINK, FUSE_SYMLINK = 1, 3, 4, 5, 6
FUSE_MKNOD, FUSE_MKDIR, FUSE_UNLINK, FUSE_RMDIR, FUSE_RENAME, FUSE_LINK = 8, 9, 10, 11, 12, 13
FUSE_OPEN, FUSE_READ, FUSE_WRITE, FUSE_STATFS, FUSE_RELEASE = 14, 15, 16, 17, 18
FUSE_SETXATTR, FUSE_GETXATTR, FUSE_LISTXATTR, FUSE_INIT = 21, 22, 23, 26
FUSE_OPENDIR, FUSE_READDIR, FUSE_CREATE, FUSE_READDIRPLUS = 27, 28, 35, 44
ROOT = 1


def request(opcode, unique, nodeid, body=b"", uid=0, gid=0):
    return struct.pack("<IIQQIII", 40 + len(body), opcode, unique, nodeid, uid, gid, 0) + \
        struct.pack("<I", 0) + body


def name(text):
    return text.encode() + b"\0"


def init(unique=1):
    # major, minor, max_readahead, flags (MAX_PAGES|DO_READDIRPLUS), flags2, unused
    return request(FUSE_INIT, unique, 0,
                   struct.pack("<IIIII", 7, 38, 65536, (1 << 22) | (1 << 13), 0) + bytes(44))


def framed(requests):
    return b"".join(struct.pack("<H", len(r)) + r for r in requests)


def fuse_request_seeds():
    mkdir = struct.pack("<II", 0o755, 0o22) + name("d")
    create = struct.pack("<IIII", 0o102, 0o100644, 0o22, 0) + name("f")
    mknod = struct.pack("<IIII", 0o10644, 0, 0o22, 0) + name("p")
    # fuse_setattr_in: valid (FATTR_MODE), padding, fh, size, lock_owner, three times,
    # three nanoseconds, mode, unused4, uid, gid, unused5.
    setattr_in = struct.pack("<IIQQQQQQIIIIIIII", 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0o600,
                             0, 0, 0, 0)
    return {
        "getattr_root": framed([request(FUSE_GETATTR, 2, ROOT, bytes(16))]),
        "lookup_missing": framed([request(FUSE_LOOKUP, 2, ROOT, name("missing"))]),
        "mkdir_lookup_rmdir": framed([
            request(FUSE_MKDIR, 2, ROOT, mkdir),
            request(FUSE_LOOKUP, 4, ROOT, name("d")),
            request(FUSE_RMDIR, 6, ROOT, name("d"))]),
        "create_then_unlink": framed([
            request(FUSE_CREATE, 2, ROOT, create),
            request(FUSE_UNLINK, 4, ROOT, name("f"))]),
        "symlink_rename_link": framed([
            request(FUSE_SYMLINK, 2, ROOT, name("s") + name("../outside/secret")),
            request(FUSE_RENAME, 4, ROOT, struct.pack("<Q", ROOT) + name("s") + name("t")),
            request(FUSE_MKNOD, 6, ROOT, mknod)]),
        "escape_names": framed([
            request(FUSE_LOOKUP, 2, ROOT, name("..")),
            request(FUSE_MKDIR, 4, ROOT, struct.pack("<II", 0o755, 0) + name("../x")),
            request(FUSE_CREATE, 6, ROOT, struct.pack("<IIII", 0o102, 0o100644, 0, 0) + name("a/b"))]),
        "opendir_readdirplus": framed([
            request(FUSE_OPENDIR, 2, ROOT, bytes(8)),
            request(FUSE_READDIRPLUS, 4, ROOT, struct.pack("<QQIIQII", 1, 0, 4096, 0, 0, 0, 0))]),
        "statfs_xattr": framed([
            request(FUSE_STATFS, 2, ROOT),
            request(FUSE_SETXATTR, 4, ROOT, struct.pack("<IIII", 1, 0, 0, 0) + name("user.a") + b"v"),
            request(FUSE_GETXATTR, 6, ROOT, struct.pack("<II", 64, 0) + name("user.a")),
            request(FUSE_LISTXATTR, 8, ROOT, struct.pack("<II", 64, 0))]),
        "setattr_root": framed([request(FUSE_SETATTR, 2, ROOT, setattr_in)]),
        "reinit": framed([init(2)]),
    }


def virtqueue_seeds():
    """virtqueue_fuzzer's program: INIT then GETATTR through request queue 1."""
    seeds = {}
    for transport in (0, 1):
        program = bytes([transport])
        offset = 0
        for unique, req in ((1, init()), (3, request(FUSE_GETATTR, 3, ROOT, bytes(16)))):
            # op 4 (bytes into the data area) in pieces of at most 255 bytes.
            for at in range(0, len(req), 255):
                piece = req[at:at + 255]
                program += bytes([4]) + struct.pack("<HB", offset + at, len(piece)) + piece
            # ops 0 on ring 1 (0x80): desc 0 readable -> next 1, desc 1 writable.
            program += bytes([0x80]) + struct.pack("<BHHBB", 0, offset, len(req), 1, 1)
            program += bytes([0x80]) + struct.pack("<BHHBB", 1, 32768, 4096, 2, 0)
            program += bytes([0x82]) + struct.pack("<H", 0)  # publish head 0 on ring 1
            program += bytes([5, 1])                          # notify queue 1
            offset += 1024
        seeds["init_getattr_" + ("pci" if transport == 0 else "mmio")] = program
    # A hostile one: a head beyond the ring, and a raw descriptor out of memory.
    seeds["hostile_head"] = bytes([0, 0x82]) + struct.pack("<H", 40) + bytes([5, 1])
    seeds["hostile_raw_desc"] = bytes([1, 0x81, 0]) + struct.pack("<QIHH", 1 << 40, 64, 2, 0) + \
        bytes([0x82, 0, 0, 5, 1])
    return seeds


def fuse_reply_seeds():
    def reply(unique, error, body=b""):
        return struct.pack("<IiQ", 16 + len(body), error, unique) + body
    # fuse_attr: ino, size, blocks, atime, mtime, ctime, their nanoseconds, mode, nlink,
    # uid, gid, rdev, blksize, flags.
    attr = struct.pack("<QQQQQQIIIIIIIIII", 2, 5, 0, 0, 0, 0, 0, 0, 0, 0o100644, 1, 0, 0, 0,
                       4096, 0)
    attr_out = struct.pack("<QII", 1, 0, 0) + attr
    # client mode (0): per call node, buffer size, op; the handler takes mode, length, bytes.
    getattr_call = bytes([0, 0]) + struct.pack("<H", 0) + bytes([0])
    good_attr = bytes([3]) + struct.pack("<H", len(reply(2, 0, attr_out))) + reply(2, 0, attr_out)
    read_call = bytes([0]) + struct.pack("<H", 100) + bytes([2])
    data = reply(4, 0, b"hello")
    good_read = bytes([1]) + struct.pack("<H", len(data)) + data
    # split queue mode (1): size 8 (3), features 0; submit (op 0x51: one readable and one
    # writable segment), the device uses id 0 with 10 bytes, the driver pops.
    split = bytes([1, 3, 0]) + bytes([0x51, 1, 1]) + \
        bytes([1]) + struct.pack("<HIIH", 0, 0, 10, 1) + bytes([2])
    split_bad = bytes([1, 3, 3]) + bytes([0x51, 1, 1]) + \
        bytes([1]) + struct.pack("<HIIH", 0, 7, 1 << 20, 1) + bytes([2, 0x51, 1, 1, 2])
    return {
        "client_getattr": bytes([0]) + getattr_call + good_attr,
        "client_read": bytes([0]) + read_call + good_read,
        "client_error": bytes([0]) + getattr_call + bytes([1]) + struct.pack("<H", 16) + reply(2, -2),
        "split_queue": split,
        "split_queue_bad_id": split_bad,
    }


def main():
    for corpus, seeds in (("fuse_request", fuse_request_seeds()),
                          ("virtqueue", virtqueue_seeds()),
                          ("fuse_reply", fuse_reply_seeds())):
        directory = os.path.join("fuzz", "corpus", corpus)
        os.makedirs(directory, exist_ok=True)
        for seed, data in seeds.items():
            with open(os.path.join(directory, "seed_" + seed), "wb") as out:
                out.write(data)


if __name__ == "__main__":
    main()
