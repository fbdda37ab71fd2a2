"""What the storage and KMS sides of one cloud share (they may not import each other).

gourl.py: Go's url parsing rules, which CockroachDB's URI checks follow; aws.py: endpoint,
role-chain and error helpers used by both s3 storage and AWS KMS.
"""
