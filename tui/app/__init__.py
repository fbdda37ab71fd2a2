"""The Textual console face: the app, its widgets and screens."""
