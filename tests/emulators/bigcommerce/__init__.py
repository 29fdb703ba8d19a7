"""BigCommerce REST API emulator (see server.py)."""
