"""g4f 8 offline: importing ``g4f.api`` fetches g4f.dev's provider list unless today's copy is
in its cache. ``offline_config_dir`` writes that copy (naming no real provider) so that a
g4f process started with ``G4F_CONFIG_DIR`` set to it never reaches for the network."""

from __future__ import annotations

import datetime
import json
from pathlib import Path


def offline_config_dir(under: Path) -> Path:
    config = under / "g4f"
    day = config / "cache" / ".models" / datetime.date.today().strftime("%Y-%m-%d")
    day.mkdir(parents=True, exist_ok=True)
    offline = {"providers": {"default": {"baseUrl": "http://127.0.0.1:9/v1"}}, "defaultModels": {}}
    (day / "providers.json").write_text(json.dumps(offline))
    return config
