"""What a person sees: the command line, the Textual app and the line shell.

Imports are lazy: batch mode never imports textual (a test checks it).
"""
