"""The bundled models (installed as ``genre_desktop.models``): ONNX files, their manifest, card and licences.

Only data lives here; ``genre_desktop.paths.bundled_models_dir`` finds the folder.
"""
