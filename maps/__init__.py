"""Interactive (folium) and static maps of plans, scenarios, gates and corridors.

Built in part 4 (issue 5); this package holds no code yet.
"""
