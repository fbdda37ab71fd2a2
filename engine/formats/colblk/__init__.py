"""Decoders for Pebble's columnar blocks (sstable table formats v5 and later).

columns.py decodes the column encodings in bulk; blocks.py the block kinds built from them.
Reading only: engine.formats.sst wires them into read_sst / check_sst.
"""
