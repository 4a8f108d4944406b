"""The data-key types of the key-provider interface never show a plaintext data key."""

from __future__ import annotations

import os

from kmscli.keyprovider import GeneratedDataKey, UnwrappedDataKey, WrappedDataKey

ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def test_reprs_name_the_key_and_hide_the_plaintext() -> None:
    plaintext = os.urandom(32)
    for value in (
        GeneratedDataKey(ARN, b"wrapped", "m1", plaintext),
        UnwrappedDataKey(ARN, plaintext, "m1"),
    ):
        shown = repr(value)
        assert ARN in shown and "m1" in shown
        assert repr(plaintext) not in shown and plaintext.hex() not in shown
        assert value.plaintext == plaintext


def test_a_generated_data_key_is_a_wrapped_one() -> None:
    generated = GeneratedDataKey(ARN, b"wrapped", None, b"k" * 32)
    assert isinstance(generated, WrappedDataKey)
    assert (generated.key_arn, generated.ciphertext, generated.material_id) == (
        ARN,
        b"wrapped",
        None,
    )
