"""What a person is told when a transfer changes, in their language.

The texts live in gettext catalogs (``notifier/locale/<lang>/LC_MESSAGES/notifier.po``);
Babel compiles each in memory the first time it is needed, so a clean checkout needs no
build step. Message ids name the meaning (``state.<STATE>``), never a person or a record:
messages carry no health data.
"""

from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from schemas import Language, TransferState

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "notifier"


def message_id(state: TransferState) -> str:
    return f"state.{state.value}"


def catalog_path(language: Language) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(language: Language) -> Translations:
    with catalog_path(language).open("rb") as po:
        catalog = read_po(po, locale=language, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog)  # fuzzy entries are left out, as msgfmt does
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def message_for(state: TransferState, language: Language) -> str:
    return translations(language).gettext(message_id(state))
