"""tagging layer (see DESIGN.md)."""
