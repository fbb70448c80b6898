"""Faust-streaming processors: intake, risk audit, consent branching, availability, expiry."""
