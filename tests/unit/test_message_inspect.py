"""`describe(header)` for `kmscli inspect`: plain data, no secrets."""

from __future__ import annotations

import base64
import io
import json
import struct

from kmscli.message.decoder import MessageDecryptor
from kmscli.message.encoder import MessageEncryptor
from kmscli.message.header import EncryptedDataKey
from kmscli.message.inspect import describe
from kmscli.message.suites import SIGNED_SUITE

DATA_KEY = bytes(range(32))


def test_describe() -> None:
    arn = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    raw_info = b"backup-key" + struct.pack(">II", 128, 12) + b"\x00\xff" * 6
    edks = [
        EncryptedDataKey("aws-kms", arn.encode(), b"\x01" * 170),
        EncryptedDataKey("raw", raw_info, b"\x02" * 48),
        EncryptedDataKey("odd", b"\xff\xfe", b""),
    ]
    encryptor = MessageEncryptor(SIGNED_SUITE, {"purpose": "inspect", "ключ": ""}, 4096)
    out = io.BytesIO()
    encryptor.write(io.BytesIO(b"secret plaintext"), out, DATA_KEY, edks)
    header = MessageDecryptor(io.BytesIO(out.getvalue())).read_header()
    info = describe(header)
    json.dumps(info)  # plain data all the way down
    assert info["Version"] == 2
    assert info["AlgorithmSuite"]["Id"] == "0x0578" and info["AlgorithmSuite"]["Signed"]
    assert base64.b64decode(info["MessageId"]) == header.message_id
    assert info["EncryptionContext"] == dict(encryptor.encryption_context)
    kms, raw, odd = info["EncryptedDataKeys"]
    assert kms == {
        "ProviderId": "aws-kms",
        "ProviderInfo": arn,
        "KeyArn": arn,
        "CiphertextLength": 170,
    }
    assert raw["KeyName"] == "backup-key" and "ProviderInfoBase64" in raw
    assert odd["ProviderInfoBase64"] == "//4=" and "KeyName" not in odd
    assert info["ContentType"] == "framed" and info["FrameLength"] == 4096
    assert info["HeaderLength"] == header.header_length
    text = json.dumps(info)
    assert "secret" not in text and base64.b64encode(DATA_KEY).decode() not in text
