"""desk stage."""
