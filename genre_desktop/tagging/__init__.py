"""tagging layer (see DESIGN.md): reading tags and writing fields with mutagen.

Every field is declared once (``fields``: its place in each tag format, beets' mediafile's idea);
one backend per container (``id3`` for MP3/AIFF, ``riff_info`` for WAV, ``vorbis``, ``mp4``,
``asf``) knows only the container's mechanics, and the table in ``registry`` picks it and names
each container's audio region (``regions``: the bytes a write must leave identical). ``files``
opens files and saves them through a working copy verified before it replaces the original;
``describe`` says beforehand what a write will change in a file's form; ``rebuild`` proves a
write undoable (the original rebuilt from the written copy, ``chunking`` finding moved bytes),
``restore`` gives the original back byte for byte, ``working_copy`` holds the copy being
changed, ``foreign`` reads the tags of formats without a backend; ``reasons`` words failures for
users. The journal, the undo data and undo itself live in library/, above this layer.
"""

from genre_desktop.tagging.base import KEEP, FileTags, TagError, UnsupportedFormat, WriteOptions
from genre_desktop.tagging.describe import WriteNote, describe_write, keeps_its_form
from genre_desktop.tagging.files import restore_fields, write_fields, write_genres
from genre_desktop.tagging.reading import read_genres, read_tags

__all__ = ["KEEP", "FileTags", "TagError", "UnsupportedFormat", "WriteNote", "WriteOptions", "describe_write", "keeps_its_form",
           "read_genres", "read_tags", "restore_fields", "write_fields", "write_genres"]
