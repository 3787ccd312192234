"""The municipal agent: reads a municipality's extracts, pseudonymises at ingestion, counts per
school location and school year, and signs the partial that is the only thing that leaves."""
