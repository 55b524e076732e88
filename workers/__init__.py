"""Zeebe job workers of LAPOR! Pontianak: one router per concern, each a thin adapter over the core."""
