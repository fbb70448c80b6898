"""Every message id the notifier uses is translated in every catalog, and nothing more."""

from typing import get_args

import pytest
from babel.messages.pofile import read_po

from notifier.messages import catalog_path, message_for, message_id
from schemas import Language, TransferState

LANGUAGES: tuple[Language, ...] = get_args(Language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_id_is_translated_in_the_catalog_of_each_language(
    language: Language,
) -> None:
    with catalog_path(language).open("rb") as po:
        catalog = read_po(po, locale=language)
    entries = {message.id: message for message in catalog if message.id}
    assert set(entries) == {message_id(state) for state in TransferState}
    for message in entries.values():
        assert message.string, f"{language}: {message.id} is not translated"
        assert not message.fuzzy, f"{language}: {message.id} is marked fuzzy"
    for state in TransferState:
        assert message_for(state, language) == entries[message_id(state)].string


def test_messages_differ_by_language() -> None:
    state = TransferState.CONSENT_REVOKED
    assert len({message_for(state, lang) for lang in LANGUAGES}) == 3
