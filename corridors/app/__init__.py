"""The ``corridors`` command and the jobs it runs."""
