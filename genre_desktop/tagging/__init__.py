"""tagging layer (see DESIGN.md): reading tags and writing genres with mutagen.

One backend per tag format (``id3``, ``riff_info`` for WAV, ``vorbis``, ``mp4``, ``asf``), chosen by
the table in ``registry``, which also names each container's audio region (``regions``: the bytes a
write must leave identical); ``files`` opens files and saves them through a working copy that is
verified before it replaces the original; ``reasons`` words failures for users. The journal and
undo live in library/, above this layer.
"""

from genre_desktop.tagging.base import FileTags, TagError, UnsupportedFormat, WriteOptions
from genre_desktop.tagging.files import read_genres, read_tags, write_genres

__all__ = ["FileTags", "TagError", "UnsupportedFormat", "WriteOptions", "read_genres", "read_tags", "write_genres"]
