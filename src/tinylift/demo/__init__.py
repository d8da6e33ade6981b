"""A simulated connected-home store with known true effects."""
