"""A PNG reader written from the PNG specification (chunks, CRCs, zlib, the five filters), so
the tests check gm's PNGs with a decoder that shares no code with the encoder."""
import struct
import sys
import zlib

import numpy as np


def read_png(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "PNG signature"
    at, idat, header = 8, b"", None
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        body = data[at + 8:at + 8 + length]
        (crc,) = struct.unpack(">I", data[at + 8 + length:at + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"CRC of {kind}"
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
        at += 12 + length
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and interlace == 0 and colour in (0, 2), header
    channels = 1 if colour == 0 else 3
    raw = zlib.decompress(idat)
    stride = width * channels
    out = np.zeros((height, stride), np.int32)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], np.frombuffer(raw, np.uint8, stride, y * (stride + 1) + 1).astype(np.int32)
        above = out[y - 1] if y else np.zeros(stride, np.int32)
        row = np.zeros(stride, np.int32)
        for x in range(stride):
            left = row[x - channels] if x >= channels else 0
            corner = above[x - channels] if x >= channels else 0
            if kind == 0: p = 0
            elif kind == 1: p = left
            elif kind == 2: p = above[x]
            elif kind == 3: p = (left + above[x]) // 2
            else:
                estimate = left + above[x] - corner
                da, db, dc = abs(estimate - left), abs(estimate - above[x]), abs(estimate - corner)
                p = left if da <= db and da <= dc else above[x] if db <= dc else corner
            row[x] = (line[x] + p) & 255
        out[y] = row
    image = out.astype(np.uint8)
    return image if channels == 1 else image.reshape(height, width, 3)


if __name__ == "__main__":
    print(read_png(sys.argv[1]).shape)
