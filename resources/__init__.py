"""The desktop files (installed as ``genre_desktop.resources``): icons, the .desktop entry, AppStream metainfo.

Only data lives here; ``genre_desktop.paths.resources_dir`` finds the folder.
"""
