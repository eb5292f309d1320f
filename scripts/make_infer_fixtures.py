#!/usr/bin/python3
"""Regenerates the image files cmd/infer's tests classify (cmd/infer/testdata/classify).

mixed/ holds one Fashion-MNIST test image (the ankle boot in testdata/images) in every
format infer reads, plus files that must fail: a corrupt and a truncated JPEG, and a PNG
whose header announces 100000 x 100000 pixels. alpha/ and gray/ hold a PNG with
transparency and grayscale JPEGs. Run from the repository root after
scripts/extract_fashion_images.py:  /usr/bin/python3 scripts/make_infer_fixtures.py
"""
import os
import struct
import zlib

from PIL import Image

OUT = "cmd/infer/testdata/classify"
BOOT = "testdata/images/fashion-mnist/t10k-0000-ankle-boot.png"
DOG = "testdata/images/photos/onnx-tutorials_dog.jpg"
CAT_GRAY = "testdata/images/photos/caffe_cat_gray.jpg"


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def main():
    for d in ("mixed", "alpha", "gray"):
        os.makedirs(os.path.join(OUT, d), exist_ok=True)
    boot = Image.open(BOOT)
    boot.save(os.path.join(OUT, "mixed/boot.png"))
    boot.save(os.path.join(OUT, "mixed/boot.bmp"))
    boot.save(os.path.join(OUT, "mixed/boot.gif"))
    boot.save(os.path.join(OUT, "mixed/boot.tif"))
    boot.save(os.path.join(OUT, "mixed/boot.webp"), lossless=True)
    # Same pixels as RGB with a fully opaque alpha channel.
    boot.convert("RGBA").save(os.path.join(OUT, "mixed/boot-rgba.png"))

    dog = open(DOG, "rb").read()
    with open(os.path.join(OUT, "mixed/corrupt.jpg"), "wb") as f:
        f.write(dog[:2] + bytes((i * 37) & 0xFF for i in range(2000)))
    with open(os.path.join(OUT, "mixed/truncated.jpg"), "wb") as f:
        f.write(dog[: len(dog) // 3])
    # A valid PNG header announcing 100000 x 100000 RGB pixels, with a tiny
    # IDAT: decoding it would need 30 GB.
    ihdr = struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0)
    with open(os.path.join(OUT, "mixed/huge.png"), "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
                + png_chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + png_chunk(b"IEND", b""))
    with open(os.path.join(OUT, "mixed/notes.txt"), "w") as f:
        f.write("not an image: a folder walk skips this file\n")

    # The ankle boot, white on transparent: its background pixels are red
    # but fully transparent, so they must read as white (not red, not black).
    rgba = Image.new("RGBA", boot.size)
    px = rgba.load()
    src = boot.load()
    for y in range(boot.size[1]):
        for x in range(boot.size[0]):
            v = src[x, y]
            px[x, y] = (v, v, v, 255) if v > 0 else (255, 0, 0, 0)
    rgba.save(os.path.join(OUT, "alpha/boot-transparent.png"))

    gray = Image.open(CAT_GRAY)
    gray.resize((120, 90), Image.BICUBIC).save(os.path.join(OUT, "gray/cat-gray.jpg"), quality=90)
    boot.save(os.path.join(OUT, "gray/boot-gray.jpg"), quality=100)


if __name__ == "__main__":
    main()
