"""One module per statement the executor runs; engine/execute.py imports each on first use,
so `rewrap -e "SHOW BACKUPS ..."` does not pay for the ALTER engine."""
