"""Analyses of built networks: access, attribution, criticality, trajectories, uncertainty."""
