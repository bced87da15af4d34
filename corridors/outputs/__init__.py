"""What a run hands to people: tables, the HTML report and the GIS export."""
