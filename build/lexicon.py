"""Load the curated reference data in ``build/lexicons/`` (one YAML file per lexicon).

Every lexicon names its ``source:`` (where the words come from) so that a reader can check it;
code holds no word lists of its own. Files are read with safe YAML loading only.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

LEXICON_DIR = Path(__file__).with_name("lexicons")


class LexiconError(ValueError):
    """A lexicon file is missing, malformed, or does not name its source."""


@cache
def load_lexicon(name: str) -> dict[str, Any]:
    """The parsed ``build/lexicons/<name>.yaml``; refuses a file without ``source``."""
    path = LEXICON_DIR / f"{name}.yaml"
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except FileNotFoundError as exc:
        raise LexiconError(f"{path}: lexicon not found") from exc
    except yaml.YAMLError as exc:
        raise LexiconError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or not data.get("source"):
        raise LexiconError(f"{path}: a lexicon must be a mapping with a non-empty 'source'")
    return data
