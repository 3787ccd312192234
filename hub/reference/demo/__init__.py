"""Demo reference files for the demo regions (see README.md here); ``make_demo.py`` writes them."""
