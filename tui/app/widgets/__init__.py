"""What a person sees on the main screen, one widget per module."""
