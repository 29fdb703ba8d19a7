"""WooCommerce REST API v3 emulator (see server.py)."""
