"""Session fixtures for the azure stand-ins (filled in by the cloud issue)."""
