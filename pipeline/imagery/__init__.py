"""imagery stage."""
