"""What a run hands to people: tables, the HTML report, the run's index page and the GIS export."""
