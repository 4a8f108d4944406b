"""A plain-data description of a message header, for `kmscli inspect` (no secrets in it).

Owns: `describe(header)`. Must not: render (the CLI chooses text or JSON) or decrypt anything.
"""

from __future__ import annotations

import base64
from typing import Any

from kmscli.message.header import ContentType, EncryptedDataKey, MessageHeader


def _text_or_base64(data: bytes) -> dict[str, str]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = ""
    else:
        if text.isprintable():
            return {"text": text}
    return {"base64": base64.b64encode(data).decode("ascii")}


def _describe_key(key: EncryptedDataKey) -> dict[str, Any]:
    info: dict[str, Any] = {
        "provider_id": key.provider_id,
        "provider_info": _text_or_base64(key.provider_info),
        "ciphertext_length": len(key.ciphertext),
    }
    # Raw-AES provider info is key name ‖ tag bits (4) ‖ IV length (4) ‖ IV: show the name alone.
    raw = key.provider_info
    if len(raw) >= 20 and raw[-20:-12] == b"\x00\x00\x00\x80\x00\x00\x00\x0c":
        name = _text_or_base64(raw[:-20])
        if "text" in name:
            info["key_name"] = name["text"]
    return info


def describe(header: MessageHeader) -> dict[str, Any]:
    """Version, suite, message ID (Base64), encryption context, EDKs, content type, sizes."""
    suite = header.suite
    return {
        "version": header.version,
        "algorithm_suite": {
            "id": suite.id_hex,
            "name": suite.name,
            "committing": suite.committing,
            "signed": suite.signed,
        },
        "message_id": base64.b64encode(header.message_id).decode("ascii"),
        "encryption_context": dict(header.encryption_context),
        "encrypted_data_keys": [_describe_key(key) for key in header.encrypted_data_keys],
        "content_type": "framed" if header.content_type is ContentType.FRAMED else "non-framed",
        "frame_length": header.frame_length,
        "header_length": header.header_length,
    }
