"""Installed security-relevant packages are at least the versions with the known CVEs fixed.

Vulnerability scanners (pip-audit, safety) cannot reach their databases from the build
machines, so the floors are pinned here by hand, each with the advisory it answers; pyproject's
dependency floors must not fall below them either.
"""

from __future__ import annotations

import importlib.metadata as metadata
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]

# distribution -> (lowest acceptable version, why)
REQUIRED: dict[str, tuple[str, str]] = {
    "python-jose": ("3.5.0", "CVE-2024-33663 algorithm confusion with OpenSSH ECDSA keys; "
                             "CVE-2024-33664 JWE decompression bomb (fixed in 3.4.0)"),
    "cryptography": ("44.0.1", "CVE-2024-12797 in the bundled OpenSSL; CVE-2024-26130 "
                               "NULL dereference on PKCS#12 (42.0.4); CVE-2023-50782 (42.0.0)"),
    "starlette": ("0.49.1", "CVE-2025-62727 Range header DoS in FileResponse (0.49.1); "
                            "CVE-2025-54121 multipart rollover (0.47.2); CVE-2024-47874 (0.40.0)"),
    "python-multipart": ("0.0.18", "CVE-2024-53981 boundary parsing DoS; CVE-2024-24762 ReDoS"),
    "h11": ("0.16.0", "CVE-2025-43859 request smuggling through chunked-encoding leniency"),
    "fastapi": ("0.115.0", "pulls a Starlette with CVE-2024-47874 fixed"),
}
# Only checked when installed (they come in transitively and may disappear).
IF_PRESENT: dict[str, tuple[str, str]] = {
    "jinja2": ("3.1.6", "CVE-2025-27516 sandbox breakout through the |attr filter"),
    "urllib3": ("2.6.0", "CVE-2025-66418 / CVE-2025-66471 decompression bombs; "
                         "CVE-2025-50181 redirects (2.5.0)"),
    "requests": ("2.32.4", "CVE-2024-47081 .netrc credentials leaked to other hosts"),
    "pillow": ("11.3.0", "CVE-2025-48379 buffer overflow writing DDS images"),
}


def _version(dist: str) -> Version:
    return Version(metadata.version(dist))


def _pyproject_floors() -> dict[str, Version]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    floors = {}
    for line in data["project"]["dependencies"]:
        req = Requirement(line)
        lows = [Version(s.version) for s in req.specifier if s.operator in (">=", "==", "~=")]
        if lows:
            floors[req.name.lower()] = max(lows)
    return floors


@pytest.mark.parametrize("dist", sorted(REQUIRED))
def test_required_package_is_at_or_above_its_floor(dist: str) -> None:
    floor, why = REQUIRED[dist]
    assert _version(dist) >= Version(floor), f"{dist} {_version(dist)} < {floor}: {why}"


@pytest.mark.parametrize("dist", sorted(IF_PRESENT))
def test_transitive_package_is_at_or_above_its_floor_when_installed(dist: str) -> None:
    floor, why = IF_PRESENT[dist]
    try:
        installed = _version(dist)
    except metadata.PackageNotFoundError:
        pytest.skip(f"{dist} is not installed")
    assert installed >= Version(floor), f"{dist} {installed} < {floor}: {why}"


def test_libpass_provides_passlib_at_the_pyproject_floor() -> None:
    """libpass replaces the unmaintained passlib (broken with bcrypt >= 4.1) under one name."""
    floor = _pyproject_floors()["libpass"]
    assert floor >= Version("1.9")
    assert _version("libpass") >= floor
    assert metadata.packages_distributions().get("passlib") == ["libpass"]
    with pytest.raises(metadata.PackageNotFoundError):
        metadata.version("passlib")  # the original would shadow libpass's modules


def test_pyproject_floors_are_not_below_the_pinned_floors() -> None:
    floors = _pyproject_floors()
    for dist in ("python-jose", "cryptography", "python-multipart"):
        assert floors[dist] >= Version(REQUIRED[dist][0]), (
            f"pyproject.toml lets {dist} {floors[dist]} in; the floor is {REQUIRED[dist][0]}"
        )


def test_jose_uses_the_cryptography_backend() -> None:
    """Never the pure-Python ecdsa/rsa backends (ecdsa has the unfixed CVE-2024-23342)."""
    from jose.backends import ECKey, RSAKey

    assert RSAKey.__module__ == "jose.backends.cryptography_backend"
    assert ECKey.__module__ == "jose.backends.cryptography_backend"


def test_floor_comparison_is_by_version_not_by_text() -> None:
    # "0.0.9" sorts after "0.0.18" as text; the check must not be fooled by that.
    assert Version("0.0.9") < Version("0.0.18")
    assert Version("3.10.0") > Version("3.5.0")
