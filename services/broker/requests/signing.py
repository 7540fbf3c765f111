"""Signed decisions: each decision is recorded with a JWS over its content, made with the
broker's token signing key, so anyone holding the JWKS can check who approved what, and that
the record was not changed afterwards."""

from __future__ import annotations

import json
from typing import Any

from joserfc import jws

from broker.oauth.keys import ALGORITHM, KeyRing
from core.models.requests import Decision

JWS_TYPE = "decision+jws"


def decision_content(decision: Decision, step_index: int) -> dict[str, Any]:
    content = _content(decision, step_index)
    # Only when a person decided: the content of decisions signed before people is unchanged.
    if decision.decided_by_person_id is not None:
        content["decided_by_person"] = {
            "id": decision.decided_by_person_id,
            "name": decision.decided_by_person_name,
        }
    return content


def _content(decision: Decision, step_index: int) -> dict[str, Any]:
    return {
        "decision_id": decision.id,
        "request_id": decision.request_id,
        "step": step_index,
        "organisation_id": decision.organisation_id,
        "appointment_id": decision.appointment_id,
        "delegation_id": decision.delegation_id,
        "decided_by": decision.decided_by,
        "on_behalf_of": decision.on_behalf_of,
        "caller_org_id": decision.caller_org_id,
        "decision": decision.decision,
        "comment": decision.comment,
        "narrowing": decision.narrowing,
        "decided_at": decision.created_at.isoformat(),
    }


def sign_decision(decision: Decision, step_index: int, keyring: KeyRing) -> str:
    payload = json.dumps(
        decision_content(decision, step_index), sort_keys=True, ensure_ascii=False
    ).encode()
    key = keyring.signing_key
    header = {"alg": ALGORITHM, "typ": JWS_TYPE, "kid": key.kid}
    return jws.serialize_compact(header, payload, key)
