"""Audio the app reads (ffmpeg decodes it) but does not tag, for tests: DSF and DSDIFF written by
hand (no encoder here), the rest by ffmpeg, with title, artist and genre where the format keeps
them. Musepack, Monkey's Audio and TAK have no encoder on this machine: they go the same way
(mutagen reads their APEv2 tags, ffmpeg decodes them) and are not generated.
"""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import numpy as np

# extension -> ffmpeg arguments (codec, muxer)
FFMPEG_MADE = {".wv": ["-c:a", "wavpack"], ".tta": ["-c:a", "tta"], ".m4b": ["-c:a", "aac", "-f", "ipod"],
               ".mka": ["-c:a", "flac"], ".caf": ["-c:a", "pcm_s16le"], ".spx": ["-c:a", "libspeex", "-ar", "16000"],
               ".w64": ["-c:a", "pcm_s16le"], ".ac3": ["-c:a", "ac3"], ".eac3": ["-c:a", "eac3"]}
# Formats whose tags ffmpeg writes (and the app reads back).
TAGGED_BY_FFMPEG = {".wv", ".m4b", ".mka", ".caf", ".spx"}
DSD_RATE = 2822400


def ffmpeg_made(path: Path, seconds: float = 2.0) -> Path:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", f"sine=duration={seconds}",
                    "-metadata", "title=Tit", "-metadata", "artist=Art", "-metadata", "genre=Rock",
                    *FFMPEG_MADE[path.suffix], str(path)], check=True, capture_output=True, timeout=120)
    return path


def _dsd_bits(seconds: float, channels: int) -> tuple[list[np.ndarray], int]:
    """A dithered 1-bit rendering of a 440 Hz sine per channel (decodes to the tone plus noise)."""
    n = int(seconds * DSD_RATE) // 8 * 8
    rng = np.random.default_rng(1)
    out = []
    for c in range(channels):
        parts = []
        for start in range(0, n, 1 << 20):  # in pieces: seconds of DSD are millions of samples
            t = np.arange(start, min(n, start + (1 << 20))) / DSD_RATE
            parts.append((0.5 * np.sin(2 * np.pi * 440 * t + c) > rng.uniform(-1, 1, len(t))).astype(np.uint8))
        out.append(np.concatenate(parts))
    return out, n


def dsf(path: Path, seconds: float = 0.5, channels: int = 2) -> Path:
    """A DSF file (Sony's DSD container): DSD, fmt and data chunks, 4096-byte blocks per channel."""
    bits, n = _dsd_bits(seconds, channels)
    block = 4096
    per = [np.packbits(b, bitorder="little").tobytes() for b in bits]
    count = -(-len(per[0]) // block)
    per = [p.ljust(count * block, b"\x00") for p in per]
    data = b"".join(p[i * block:(i + 1) * block] for i in range(count) for p in per)
    fmt = struct.pack("<4sQIIIIIIQII", b"fmt ", 52, 1, 0, channels, channels, DSD_RATE, 1, n, block, 0)
    body = fmt + struct.pack("<4sQ", b"data", 12 + len(data)) + data
    path.write_bytes(struct.pack("<4sQQQ", b"DSD ", 28, 28 + len(body), 0) + body)
    return path


def dsdiff(path: Path, seconds: float = 0.5, channels: int = 2) -> Path:
    """A DSDIFF file (Philips' DSD container): FRM8 with FVER, PROP/SND and DSD chunks."""
    bits, _ = _dsd_bits(seconds, channels)
    data = np.stack([np.packbits(b, bitorder="big") for b in bits], axis=1).tobytes()

    def chunk(cid: bytes, body: bytes) -> bytes:
        return cid + struct.pack(">Q", len(body)) + body + b"\x00" * (len(body) % 2)

    name = b"not compressed"
    cmpr = b"DSD " + bytes([len(name)]) + name + b"\x00" * ((len(name) + 1) % 2)
    prop = b"SND " + chunk(b"FS  ", struct.pack(">I", DSD_RATE)) + chunk(
        b"CHNL", struct.pack(">H", channels) + b"".join([b"SLFT", b"SRGT"][:channels])) + chunk(b"CMPR", cmpr)
    body = b"DSD " + chunk(b"FVER", struct.pack(">I", 0x01050000)) + chunk(b"PROP", prop) + chunk(b"DSD ", data)
    path.write_bytes(b"FRM8" + struct.pack(">Q", len(body)) + body)
    return path


def alac_of_unknown_depth(path: Path) -> Path:
    """An Apple Lossless M4A whose decoder configuration says 40-bit samples: mutagen reads it,
    ffmpeg refuses it with "Not yet implemented in FFmpeg, patches welcome"."""
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=duration=1",
                    "-c:a", "alac", str(path)], check=True, capture_output=True, timeout=120)
    data = bytearray(path.read_bytes())
    inner = data.rfind(b"alac")  # the ALACSpecificConfig box inside the sample description
    data[inner + 4 + 4 + 5] = 40  # after version/flags and frameLength, compatibleVersion: bitDepth
    path.write_bytes(bytes(data))
    return path
