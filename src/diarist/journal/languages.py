"""Which text search configuration an entry is indexed with, from the user's language."""

from __future__ import annotations

# ISO 639-1 -> the accent-insensitive configurations made by the journal migration. English
# keeps PostgreSQL's own configuration (accents are rare and stemming matters more).
_CONFIGS = {
    "en": "english",
    "da": "diarist_danish",
    "nl": "diarist_dutch",
    "fi": "diarist_finnish",
    "fr": "diarist_french",
    "de": "diarist_german",
    "hu": "diarist_hungarian",
    "it": "diarist_italian",
    "no": "diarist_norwegian",
    "nb": "diarist_norwegian",
    "nn": "diarist_norwegian",
    "pt": "diarist_portuguese",
    "ro": "diarist_romanian",
    "ru": "diarist_russian",
    "es": "diarist_spanish",
    "sv": "diarist_swedish",
    "tr": "diarist_turkish",
}
FALLBACK = "diarist_simple"


def search_config(language: str | None) -> str:
    """`de-CH` -> `diarist_german`; unknown languages get unaccented words without stemming."""
    if not language:
        return "english"
    return _CONFIGS.get(language.split("-")[0].lower(), FALLBACK)
