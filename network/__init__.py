"""The multimodal network graph: building it per year, speeds, transfers and routing.

Built in part 2 (issue 3); this package holds no code yet.
"""
