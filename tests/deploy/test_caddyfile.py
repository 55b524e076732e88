"""deploy/Caddyfile is a configuration Caddy accepts: `caddy validate` adapts it and provisions every module
(reverse proxies, dynamic upstreams, body limits, TLS automation) without serving or asking for certificates.

Debian's caddy (2.6) is older than the image compose runs (caddy:2.8); what 2.6 accepts, 2.8 accepts too.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from lapor.settings import ROOT

CADDYFILE = ROOT / "deploy" / "Caddyfile"
# The proxy service's environment in docker-compose.yml, with the example host names .env would give.
ENVIRONMENT = {
    "LAPOR_PUBLIC_HOST": "lapor.pontianak.go.id",
    "LAPOR_STAFF_HOST": "tasklist.lapor.pontianak.go.id",
    "LAPOR_TLS_EMAIL": "pengaduan@pontianak.go.id",
    "LAPOR_PROXY_MAX_BODY": "46MB",
}


def caddy() -> str:
    found = shutil.which("caddy")
    if found is None:
        if os.environ.get("CI") == "true":  # CI installs Debian's caddy: the Caddyfile is always validated there
            pytest.fail("caddy is not installed in CI (apt-get install caddy)", pytrace=False)
        pytest.skip("caddy is not installed (apt-get install caddy)")
    return found


def validate(config: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "XDG_DATA_HOME": str(home), **ENVIRONMENT}
    env["XDG_CONFIG_HOME"] = str(home)
    return subprocess.run(
        [caddy(), "validate", "--config", str(config), "--adapter", "caddyfile"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_proxys_caddyfile_is_valid(tmp_path: Path) -> None:
    result = validate(CADDYFILE, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Valid configuration" in result.stdout + result.stderr


def test_a_caddyfile_caddy_would_refuse_fails_validation(tmp_path: Path) -> None:
    """The check above can fail: a misspelt directive in a copy of the file is refused."""
    broken = tmp_path / "Caddyfile"
    broken.write_text(CADDYFILE.read_text().replace("request_body {", "request_bodyy {", 1))
    result = validate(broken, tmp_path)
    assert result.returncode != 0
    assert "request_bodyy" in result.stderr
