"""audio layer (see DESIGN.md)."""
