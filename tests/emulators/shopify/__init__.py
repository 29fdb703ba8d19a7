"""Shopify Admin GraphQL API emulator (see server.py and ../README.md)."""
