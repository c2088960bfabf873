"""Test helpers that ship with the package (a loopback stand-in for the imagery services)."""
