"""Sandbox simulators of the Pax8, HaloPSA and QuickBooks APIs (ASGI apps)."""
