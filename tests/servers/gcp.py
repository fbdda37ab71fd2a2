"""Session fixtures for the gcp stand-ins (filled in by the cloud issue)."""
