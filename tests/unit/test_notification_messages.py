"""Every state has a message in every supported language."""

import pytest

from notifier.messages import MESSAGES, message_for
from schemas import TransferState


@pytest.mark.parametrize("language", ["en", "es", "sv"])
def test_every_state_has_a_message_in_each_language(language: str) -> None:
    assert set(MESSAGES[language]) == set(TransferState)  # type: ignore[index]
    assert all(message_for(state, language) for state in TransferState)  # type: ignore[arg-type]


def test_messages_differ_by_language() -> None:
    state = TransferState.CONSENT_REVOKED
    assert len({message_for(state, lang) for lang in ("en", "es", "sv")}) == 3
