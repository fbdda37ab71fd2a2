"""The AWS, Azure and Google Cloud examples of CockroachDB's ALTER BACKUP docs
(cockroachdb/docs src/current/v24.3/alter-backup.md), placeholders filled in: they parse, format
canonically, redact every secret, and diagnose clean. (tests/cloud_* run them end to end.)"""

from __future__ import annotations

import pytest

from syntax import diagnose, format_statement, parse
from syntax.ast import AlterBackup

AWS = (
    "ALTER BACKUP LATEST IN 's3://bkt?AWS_ACCESS_KEY_ID=AKIAEXAMPLE&AWS_SECRET_ACCESS_KEY=s3Cr3t'\n"
    "    ADD NEW_KMS = 'aws:///arn:aws:kms:us-east-1:123456789012:key/new-key?AWS_ACCESS_KEY_ID=AKIAEXAMPLE&AWS_SECRET_ACCESS_KEY=s3Cr3t&REGION=us-east-1'\n"
    "    WITH OLD_KMS = 'aws:///arn:aws:kms:us-east-1:123456789012:key/old-key?AWS_ACCESS_KEY_ID=AKIAEXAMPLE&AWS_SECRET_ACCESS_KEY=s3Cr3t&REGION=us-east-1';"
)
AZURE = (
    "ALTER BACKUP '2023/03/14-203808.29' IN 'azure-blob://ctr?AUTH=specified&AZURE_ACCOUNT_NAME=acct&AZURE_CLIENT_ID=cid&AZURE_CLIENT_SECRET=s3Cr3t&AZURE_TENANT_ID=tid'\n"
    "    ADD NEW_KMS = 'azure-kms:///new-key/0123456789abcdef?AZURE_TENANT_ID=tid&AZURE_CLIENT_ID=cid&AZURE_CLIENT_SECRET=s3Cr3t&AZURE_VAULT_NAME=vault'\n"
    "    WITH OLD_KMS = 'azure-kms:///old-key/fedcba9876543210?AZURE_TENANT_ID=tid&AZURE_CLIENT_ID=cid&AZURE_CLIENT_SECRET=s3Cr3t&AZURE_VAULT_NAME=vault';"
)
GCP = (
    "ALTER BACKUP LATEST IN 'gs://bkt?AUTH=specified&CREDENTIALS=czNDcjN0'\n"
    "    ADD NEW_KMS = 'gs:///projects/p/locations/us-east1/keyRings/r/cryptoKeys/new-key?AUTH=specified&CREDENTIALS=czNDcjN0'\n"
    "    WITH OLD_KMS = 'gs:///projects/p/locations/us-east1/keyRings/r/cryptoKeys/old-key?AUTH=specified&CREDENTIALS=czNDcjN0';"
)


@pytest.mark.parametrize("sql", [AWS, AZURE, GCP], ids=["aws", "azure", "gcp"])
def test_docs_example(sql: str) -> None:
    (stmt,) = parse(sql)
    assert isinstance(stmt, AlterBackup) and len(stmt.commands) == 1 and not stmt.all_in
    canonical = format_statement(stmt)
    assert canonical.startswith("ALTER BACKUP ") and " ADD NEW_KMS='" in canonical
    assert " WITH OLD_KMS='" in canonical and "  " not in canonical
    assert parse(canonical) == [stmt]
    redacted = format_statement(stmt, redact=True)
    assert "s3Cr3t" not in redacted and "czNDcjN0" not in redacted and "redacted" in redacted
    hidden = format_statement(stmt, hide_uris=True)
    assert "'*****'" in hidden and "s3Cr3t" not in hidden
    assert [d for d in diagnose(sql) if d.severity == "error"] == []
