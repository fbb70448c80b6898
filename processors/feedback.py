"""Feedback to the assessment tools: each finished transfer, once per organisation (pure).

The CAT and PAT recalculate an organisation's risk from how its transfers end. A record
carries the outcome and counts only; its event id is derived from the committing
transaction, so the same block seen twice yields the same record.
"""

from uuid import NAMESPACE_URL, uuid5

from schemas import FINAL_STATES, Transfer, TransferFeedback


def feedback_for(tx_id: str, transfer: Transfer) -> list[TransferFeedback]:
    """The records a commit calls for: none unless it moved the transfer to a final state."""
    move = transfer.last_transition
    if transfer.state not in FINAL_STATES or move.to_state is not transfer.state:
        return []
    hour = move.at.replace(minute=0, second=0, microsecond=0)
    return [
        TransferFeedback(
            event_id=uuid5(NAMESPACE_URL, f"curex-feedback:{tx_id}:{org}"),
            org_id=org,
            role=role,
            outcome=transfer.state,
            action=move.action,
            emergency=transfer.emergency,
            hour=hour,
        )
        for org, role in (
            (transfer.requesting_org, "requesting"),
            (transfer.source_org, "source"),
        )
    ]
