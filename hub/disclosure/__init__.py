"""disclosure package."""
