"""Everything that speaks to the Docker engine lives in this package."""
