"""plots stage."""
