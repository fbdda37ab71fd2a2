"""The rewrap engine: ALTER BACKUP ... ADD NEW_KMS ... WITH OLD_KMS ..., verified and race-safe.

`run_rewrap` (run.py) drives `rewrap_backup` (backup.py) over one or many full backups and emits
the typed events of events.py; journal.py records what was done.
"""
