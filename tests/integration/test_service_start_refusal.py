"""A service started with a placeholder secret and CUREX_ENV unset exits non-zero and
names the setting, before it touches anything."""

import os
import subprocess
import sys

import pytest

from service_runtime.settings import PLACEHOLDER_SECRET

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("module", ["processors", "producers"])
def test_a_service_with_the_placeholder_key_refuses_to_start_naming_it(module: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUREX_")}
    env["CUREX_PSEUDONYM_KEY"] = PLACEHOLDER_SECRET
    done = subprocess.run(
        [sys.executable, "-m", module], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    assert "refusing to start" in done.stderr
    assert "CUREX_PSEUDONYM_KEY" in done.stderr
