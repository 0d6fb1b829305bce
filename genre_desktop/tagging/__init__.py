"""tagging layer (see DESIGN.md): reading tags and writing fields with mutagen.

Every field is declared once (``fields``: its place in each tag format, beets' mediafile's idea);
one backend per container (``id3`` for MP3/AIFF, ``riff_info`` for WAV, ``vorbis``, ``mp4``,
``asf``) knows only the container's mechanics, and the table in ``registry`` picks it and names
each container's audio region (``regions``: the bytes a write must leave identical). ``files``
opens files and saves them through a working copy verified before it replaces the original;
``describe`` says beforehand what a write will change in a file's form; ``reasons`` words failures
for users. The journal and undo live in library/, above this layer.
"""

from genre_desktop.tagging.base import KEEP, FileTags, TagError, UnsupportedFormat, WriteOptions
from genre_desktop.tagging.describe import WriteNote, describe_write
from genre_desktop.tagging.files import restore_fields, write_fields, write_genres
from genre_desktop.tagging.reading import read_genres, read_tags

__all__ = ["KEEP", "FileTags", "TagError", "UnsupportedFormat", "WriteNote", "WriteOptions", "describe_write",
           "read_genres", "read_tags", "restore_fields", "write_fields", "write_genres"]
