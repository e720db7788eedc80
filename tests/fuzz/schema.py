"""The API's OpenAPI document, built the way the tests use it: FastAPI's ``app.openapi()`` of
the intake (each route's decorator carries its part, shared/ghl_ai/openapi.py) completed with
the shared components and the RecommendationsFunction's route.

``python -m tests.fuzz.schema [FILE]`` writes it (stdout by default); nothing needs the
``ghl-ai`` command or AWS for that.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from functions.intake import app as intake_app
from ghl_ai.openapi import document


def api_document() -> dict[str, Any]:
    return document(intake_app.app.openapi())


def main(argv: list[str]) -> int:
    text = json.dumps(api_document(), indent=2, ensure_ascii=False) + "\n"
    if argv:
        with open(argv[0], "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
