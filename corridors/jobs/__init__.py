"""The jobs the command and the Python API run: ``run`` (every analysis, written), uncertainty."""
