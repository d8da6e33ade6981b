"""The ``tinylift`` command: a thin shell over the library."""
