"""testkms known answers (backup-format.md 4.2): value = data key || b"cmk", nothing else."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.kms import KMSError, open_kms

DATA_KEY = bytes(range(32))
CMK = "testkms:///cmk?AUTH=implicit"


def test_encrypt_known_answer() -> None:
    with open_kms(CMK) as kms:
        wrapped = kms.encrypt(DATA_KEY)
    assert wrapped == bytes.fromhex(
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
    ) + b"cmk"
    assert len(wrapped) == 35


def test_decrypt_known_answer() -> None:
    with open_kms(CMK) as kms:
        assert kms.decrypt(DATA_KEY + b"cmk") == DATA_KEY
        assert kms.decrypt(bytearray(DATA_KEY + b"cmk")) == DATA_KEY


def test_other_key_ids_and_params() -> None:
    with open_kms("testkms:///other-key?AUTH=implicit&REGION=blah") as kms:
        assert kms.encrypt(b"k") == b"kother-key"
        assert kms.decrypt(b"xyzother-key") == b"xyz"


def test_wrong_key_is_refused_not_stripped_blindly() -> None:
    # CockroachDB's testKMS uses strings.TrimSuffix and would hand back 35 bytes here.
    with open_kms("testkms:///new?AUTH=implicit") as kms:
        with pytest.raises(KMSError) as info:
            kms.decrypt(DATA_KEY + b"cmk")
    assert "'new'" in str(info.value)
    assert "testkms:///new" in str(info.value)
    assert DATA_KEY.hex() not in str(info.value)


def test_close_is_idempotent_and_context_manager_closes() -> None:
    kms = open_kms(CMK)
    kms.close()
    kms.close()
    assert repr(kms) == "TestKMS('testkms:///cmk?AUTH=implicit')"


@given(st.binary(max_size=64), st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=20))
def test_round_trip(data: bytes, key_id: str) -> None:
    with open_kms(f"testkms:///{key_id}") as kms:
        wrapped = kms.encrypt(data)
        assert wrapped == data + key_id.encode()
        assert kms.decrypt(wrapped) == data
