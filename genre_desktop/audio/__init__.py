"""audio layer (see DESIGN.md): decoding any supported file to mono float32, header probes.

``decode`` (windows of samples), ``probe`` (headers), ``formats`` (what is audio), ``ffmpeg`` (the
fallback decoder and its messages), ``base`` (the error and shared checks), ``output``/``player``.
"""

from genre_desktop.audio.base import DecodeError
from genre_desktop.audio.decode import decode
from genre_desktop.audio.formats import SUPPORTED_EXTENSIONS, looks_like_audio
from genre_desktop.audio.probe import AudioInfo, probe

__all__ = ["SUPPORTED_EXTENSIONS", "AudioInfo", "DecodeError", "decode", "looks_like_audio", "probe"]
