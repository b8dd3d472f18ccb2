"""Pieces shared by every app that belong to none of them: the clock, HTTP helpers, keyset pages, statistics."""
