"""Files of the classes the hostile-file campaign (issue 21) found never undoable or not undone byte
for byte, made with ffmpeg and mutagen (never with genre_desktop.tagging), plus cover art.

``campaign_files(folder)`` returns ``{name: path}``: an untagged MPEG-2.5 MP3; an empty ID3v2.4
tag before the real ID3v2.3 one; a WAV with junk after its last chunk; ffmpeg-made MP3, Opus,
M4A, WMA, Ogg and FLAC (whose writes add padding); a FLAC with 64 KB of padding (which a write
removes); an ID3v2.2 MP3; a Latin-1 ``(17)(Live)`` ID3v2.3 genre; Vorbis comments with an
uppercase ``GENRE`` before other fields; M4A items in ffmpeg's order; streamed WAVs (sizes
0xFFFFFFFF, as ffmpeg writes to a pipe), one with an odd data size.
``two_id3_chunks(path)`` makes an AIFF or WAV with two ID3 chunks (readers disagree).
``cover_jpeg(size)`` is a real JPEG of about ``size`` bytes; ``with_cover(path, jpeg)`` embeds it
the way each container keeps pictures.
"""

from __future__ import annotations

import base64
import io
import os
import struct
import subprocess
from pathlib import Path

from media import ffmpeg_available, make_audio


def ffmpeg(out: Path, *args: str) -> Path:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args, str(out)], check=True, capture_output=True,
                   timeout=120)
    return out


def _id3v2(frames: bytes, version: int, flags: int = 0) -> bytes:
    size = len(frames)
    synchsafe = bytes([(size >> 21) & 0x7F, (size >> 14) & 0x7F, (size >> 7) & 0x7F, size & 0x7F])
    return b"ID3" + bytes([version, 0, flags]) + synchsafe + frames


def _bare_mpeg(folder: Path) -> bytes:
    """MPEG audio frames without any tag."""
    source = make_audio(folder / ".bare.mp3", seconds=1.0, signal="noise")
    data = source.read_bytes()
    source.unlink()
    if data[:3] == b"ID3":
        size = (data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9]
        data = data[10 + size:]
    return data


def two_id3_chunks(path: Path) -> Path:
    """An AIFF or WAV (by extension) holding two ID3 chunks: genre "First", then "Second"."""
    from mutagen.id3 import ID3, TCON, TIT2

    make_audio(path, seconds=0.5)
    data = path.read_bytes()
    endian = "<" if path.suffix == ".wav" else ">"
    body = data[12:]
    for genre, title in (("First", "T1"), ("Second", "T2")):
        tag = ID3()
        tag.add(TCON(encoding=3, text=[genre]))
        tag.add(TIT2(encoding=3, text=[title]))
        raw = tag._prepare_data(io.BytesIO(), 0, 0, v2_version=4, v23_sep="/", pad_func=lambda info: 0)
        body += b"ID3 " + struct.pack(endian + "I", len(raw)) + raw + b"\x00" * (len(raw) % 2)
    path.write_bytes(data[:4] + struct.pack(endian + "I", len(body) + 4) + data[8:12] + body)
    return path


def streamed_wav(path: Path, *args: str) -> Path:
    """A WAV as ffmpeg writes it to a pipe: RIFF and data sizes 0xFFFFFFFF ("unknown")."""
    proc = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "sine=duration=1:sample_rate=8001",
                           *args, "-f", "wav", "pipe:1"], check=True, capture_output=True, timeout=60)
    path.write_bytes(proc.stdout)
    return path


def campaign_files(folder: str | os.PathLike[str]) -> dict[str, Path]:
    import mutagen
    from mutagen.flac import FLAC
    from mutagen.id3 import ID3, TCON, TIT2

    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    sine = ("-f", "lavfi", "-i", "sine=duration=1")
    if ffmpeg_available():
        out["mpeg25.mp3"] = ffmpeg(root / "mpeg25.mp3", "-f", "lavfi", "-i", "sine=duration=2", "-ac", "1", "-ar", "8000",
                                   "-c:a", "libmp3lame", "-b:a", "16k", "-id3v2_version", "0")
        for ext, extra in ((".mp3", ()), (".opus", ()), (".m4a", ("-metadata", "album=Album", "-metadata", "artist=A")),
                           (".wma", ()), (".ogg", ("-c:a", "libvorbis")), (".flac", ())):
            out[f"ffmpeg{ext}"] = ffmpeg(root / f"ffmpeg{ext}", *sine, *extra, "-metadata", "title=T",
                                         "-metadata", "genre=Rock")
        out["streamed.wav"] = streamed_wav(root / "streamed.wav")
        out["streamed-bare.wav"] = streamed_wav(root / "streamed-bare.wav", "-fflags", "+bitexact", "-map_metadata", "-1")
        out["streamed-odd.wav"] = streamed_wav(root / "streamed-odd.wav", "-fflags", "+bitexact", "-c:a", "pcm_u8")
    mpeg = _bare_mpeg(root)
    real = ID3()
    real.add(TCON(encoding=1, text=["Blues"]))
    real.add(TIT2(encoding=1, text=["Real title"]))
    real.update_to_v23()
    v23 = real._prepare_data(io.BytesIO(), 0, 0, v2_version=3, v23_sep="/", pad_func=lambda info: 0)
    out["stacked.mp3"] = root / "stacked.mp3"
    out["stacked.mp3"].write_bytes(_id3v2(b"", 4) + v23 + mpeg)
    out["junk.wav"] = make_audio(root / "junk.wav", seconds=0.5, signal="noise", tags={"genre": ["Rock"]})
    with open(out["junk.wav"], "ab") as handle:  # bytes after the RIFF chunk's end
        handle.write(bytes(range(256)) * 3)
    out["padded.flac"] = make_audio(root / "padded.flac", seconds=1.0, signal="noise", tags={"genre": ["Rock"]})
    FLAC(out["padded.flac"]).save(padding=lambda info: 65536)
    frames = (b"TT2" + struct.pack(">I", 3)[1:] + b"\x00T\x00" + b"TCO" + struct.pack(">I", 5)[1:] + b"\x00(17)")
    out["v22.mp3"] = root / "v22.mp3"
    out["v22.mp3"].write_bytes(_id3v2(frames + b"\x00" * 64, 2) + mpeg)
    latin = make_audio(root / "latin1.mp3", seconds=0.5, signal="noise")
    audio = mutagen.File(latin)
    audio.add_tags()
    audio.tags.add(TCON(encoding=0, text=["(17)(Live)"]))
    audio.tags.add(TIT2(encoding=0, text=["Caf\xe9"]))
    audio.tags.update_to_v23()
    audio.save(v2_version=3)
    out["latin1.mp3"] = latin
    for ext in (".flac", ".ogg"):
        path = make_audio(root / f"upper{ext}", seconds=0.5, signal="noise")
        audio = mutagen.File(path)
        if audio.tags is None:
            audio.add_tags()
        audio.tags.clear()
        audio.tags.extend([("TITLE", "T"), ("GENRE", "Rock"), ("ARTIST", "A"), ("Album", "B")])
        audio.save()
        out[f"upper{ext}"] = path
    return out


def cover_jpeg(folder: Path, size: int = 300_000, seed: int = 0) -> bytes:
    """A real JPEG (noise, so it does not compress) of about ``size`` bytes, made by ffmpeg; another
    ``seed`` (0-50) gives another picture."""
    side = int((size / 0.74) ** 0.5)  # ~0.74 bytes per pixel of noise at this quality
    folder.mkdir(parents=True, exist_ok=True)
    path = ffmpeg(folder / f".cover-{size}-{seed}.jpg", "-f", "lavfi", "-i",
                  f"nullsrc=s={side}x{side},geq=random(1)*205+{seed}:128:128", "-frames:v", "1", "-q:v", "2")
    data = path.read_bytes()
    path.unlink()
    return data


def with_cover(path: Path, jpeg: bytes) -> Path:
    """Embed ``jpeg`` as the front cover, as each container keeps pictures (mutagen)."""
    import mutagen
    from mutagen.flac import Picture

    audio = mutagen.File(path)
    ext = path.suffix.lower()
    if audio.tags is None:
        audio.add_tags()
    if ext in (".mp3", ".wav", ".aiff"):
        from mutagen.id3 import APIC

        audio.tags.add(APIC(encoding=3, mime="image/jpeg", type=3, desc="Cover", data=jpeg))
    elif ext == ".m4a":
        from mutagen.mp4 import MP4Cover

        audio.tags["covr"] = [MP4Cover(jpeg, imageformat=MP4Cover.FORMAT_JPEG)]
    elif ext == ".wma":
        from mutagen.asf import ASFByteArrayAttribute

        blob = struct.pack("<bI", 3, len(jpeg)) + "image/jpeg\x00".encode("utf-16-le") + "\x00".encode("utf-16-le") + jpeg
        audio.tags["WM/Picture"] = [ASFByteArrayAttribute(blob)]
    else:
        picture = Picture()
        picture.type, picture.mime, picture.desc, picture.data = 3, "image/jpeg", "Cover", jpeg
        if ext == ".flac":
            audio.add_picture(picture)
        else:
            audio.tags["METADATA_BLOCK_PICTURE"] = [base64.b64encode(picture.write()).decode("ascii")]
    audio.save()
    return path
