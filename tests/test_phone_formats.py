"""3GP/3GPP2 phone recordings (.3gp, .3g2: the MP4 family) and FLAC in Ogg (.oggflac) are scanned,
analysable and tagged like M4A and Ogg files (round 3 polish item 5). The files are made by ffmpeg
at test time; a test skips when this ffmpeg lacks the muxer or encoder."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from genre_desktop.audio import SUPPORTED_EXTENSIONS, decode, probe
from genre_desktop.library.scanner import scan_paths
from genre_desktop.library.store import Store
from genre_desktop.tagging import TagError, read_genres, read_tags, write_genres

# extension -> (ffmpeg output options, the format the app records, the container's name in reasons)
KINDS = {".3gp": (["-c:a", "aac", "-b:a", "48k", "-f", "3gp"], "m4a", "3GP"),
         ".3g2": (["-c:a", "aac", "-b:a", "48k", "-f", "3g2"], "m4a", "3GP2"),
         ".oggflac": (["-c:a", "flac", "-f", "ogg"], "ogg", "Ogg")}


def made_by_ffmpeg(path: Path, seconds: float = 1.5) -> Path:
    if not shutil.which("ffmpeg"):
        pytest.skip("ffmpeg not installed")
    options = KINDS[path.suffix][0]
    proc = subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
                           "-i", f"sine=frequency=440:duration={seconds}", "-ac", "1", "-ar", "22050", *options,
                           str(path)], capture_output=True, text=True)
    if proc.returncode != 0 or not path.exists():
        pytest.skip(f"this ffmpeg cannot make {path.suffix}: {proc.stderr.strip()[-200:]}")
    return path


def audio_sha(path: Path) -> str:
    return hashlib.sha256(decode(path, sr=22050).tobytes()).hexdigest()


@pytest.mark.parametrize("ext", sorted(KINDS))
def test_a_phone_or_ogg_flac_recording_is_scanned_analysable_and_tagged(tmp_path, ext):
    assert ext in SUPPORTED_EXTENSIONS
    path = made_by_ffmpeg(tmp_path / f"memo{ext}")
    fmt = KINDS[ext][1]
    with Store.open(tmp_path / "lib.json") as store:
        summary = scan_paths([str(path)], store)
        assert summary.unreadable == [], summary.unreadable
        track = store.get(str(path))
        assert track.format == fmt and track.duration == pytest.approx(1.5, abs=0.1) and not track.error
    info = probe(path)
    assert info.duration == pytest.approx(1.5, abs=0.1)
    y = decode(path, sr=22050)
    assert abs(len(y) / 22050 - 1.5) < 0.1 and float(abs(y).max()) > 0.1
    before = audio_sha(path)
    write_genres(path, ["Field Recording", "Jazz"])
    assert read_genres(path) == ["Field Recording", "Jazz"] and read_tags(path).format == fmt
    assert audio_sha(path) == before  # the tag write left the audio as it was


@pytest.mark.parametrize("ext", sorted(KINDS))
def test_a_damaged_one_is_named_by_its_container(tmp_path, ext):
    path = made_by_ffmpeg(tmp_path / f"memo{ext}")
    data = path.read_bytes()
    path.write_bytes(data.replace(b"moov", b"free") if ext != ".oggflac" else data[:60])
    with pytest.raises(TagError) as info:
        read_tags(path)
    assert info.value.reason.startswith(f"damaged {KINDS[ext][2]} file: "), info.value.reason
