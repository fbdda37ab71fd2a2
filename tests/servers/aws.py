"""Session fixtures for the aws stand-ins (filled in by the cloud issue)."""
