"""Loopback stand-ins for the imagery services (see pipeline.testing.standin)."""
