"""library layer (see DESIGN.md)."""
