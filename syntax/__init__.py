"""rewrap's SQL front end: one tokenizer, parser, formatter, completer and diagnostics.

Pure Python; it imports nothing of ours (engine data reaches completion through callables).
"""
