"""The prompt-toolkit line shell face."""
