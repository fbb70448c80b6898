"""Pseudonymous patient ids: a keyed hash of the patient's id at the home organisation."""

import hashlib
import hmac


def pseudonymise(key: bytes, home_org: str, patient_id: str) -> str:
    """HMAC-SHA256 over the organisation and id, so equal ids at two hospitals differ."""
    return hmac.new(key, f"{home_org}\x1f{patient_id}".encode(), hashlib.sha256).hexdigest()
