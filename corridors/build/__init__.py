"""From catalog to network: what the builder inserts, the build, its cache and quality report."""
