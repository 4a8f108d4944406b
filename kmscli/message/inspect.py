"""A plain-data description of a message header, for `kmscli inspect` (no secrets in it).

Owns: `describe(header)`. Must not: render (the CLI chooses text or JSON) or decrypt anything.
"""

from __future__ import annotations

import base64
from typing import Any

from kmscli.message.header import ContentType, EncryptedDataKey, MessageHeader


def _text(data: bytes) -> str | None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if text.isprintable() else None


def _describe_key(key: EncryptedDataKey) -> dict[str, Any]:
    info: dict[str, Any] = {"ProviderId": key.provider_id}
    text = _text(key.provider_info)
    if text is not None:
        info["ProviderInfo"] = text
    else:
        info["ProviderInfoBase64"] = base64.b64encode(key.provider_info).decode("ascii")
    if key.provider_id == "aws-kms" and text is not None:
        info["KeyArn"] = text
    # Raw-AES provider info is key name ‖ tag bits (4) ‖ IV length (4) ‖ IV: show the name alone.
    raw = key.provider_info
    if len(raw) >= 20 and raw[-20:-12] == b"\x00\x00\x00\x80\x00\x00\x00\x0c":
        name = _text(raw[:-20])
        if name is not None:
            info["KeyName"] = name
    info["CiphertextLength"] = len(key.ciphertext)
    return info


def describe(header: MessageHeader) -> dict[str, Any]:
    """Version, suite, message ID (Base64), encryption context, EDKs, content type, sizes.

    Member names are PascalCase, as in every `--json` document of kmscli.
    """
    suite = header.suite
    return {
        "Format": "AWS Encryption SDK message",
        "Version": header.version,
        "AlgorithmSuite": {
            "Id": suite.id_hex,
            "Name": suite.name,
            "Committing": suite.committing,
            "Signed": suite.signed,
        },
        "MessageId": base64.b64encode(header.message_id).decode("ascii"),
        "EncryptionContext": dict(header.encryption_context),
        "EncryptedDataKeys": [_describe_key(key) for key in header.encrypted_data_keys],
        "ContentType": "framed" if header.content_type is ContentType.FRAMED else "non-framed",
        "FrameLength": header.frame_length,
        "HeaderLength": header.header_length,
    }
