"""The bench's deployment: production settings with fresh secrets, set before the app reads them.

The server processes and this process share the JWT secret (tokens minted here are accepted
there) and the checkpoint signing key (ballots closed here are signed with the server's key).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
RUNS_DIR = BENCH_DIR / "runs"
CACHE_DIR = RUNS_DIR / "cache"
RESULTS_DIR = BENCH_DIR / "results"
FRONTEND_DIST = ROOT / "frontend" / "dist"


@dataclass(frozen=True)
class BenchContext:
    run_dir: Path
    secret_key: str
    id_hash_key: str
    signing_key_path: Path

    def server_env(self, database_url: str) -> dict[str, str]:
        """The environment of a server process: a production deployment plus the bench routes."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("GONGJUE_")}
        env.update(self.app_env(database_url))
        # A developer's override for tuning runs: BENCH_GONGJUE_X=v starts the servers with GONGJUE_X=v.
        env.update({k.removeprefix("BENCH_"): v for k, v in os.environ.items()
                    if k.startswith("BENCH_GONGJUE_")})
        return env

    def app_env(self, database_url: str) -> dict[str, str]:
        return {
            "GONGJUE_ENV": "production",
            "GONGJUE_DATABASE_URL": database_url,
            "GONGJUE_SECRET_KEY": self.secret_key,
            "GONGJUE_ID_HASH_KEY": self.id_hash_key,
            "GONGJUE_SIGNING_KEY_PATH": str(self.signing_key_path),
            "GONGJUE_DEMO_DATA": "false",
            "GONGJUE_SMS_PROVIDER": "console",
            # Lets production settings use the console SMS provider (the servers' logs are where
            # the bench reads login codes back).
            "GONGJUE_BENCH": "1",
            "GONGJUE_FILES_DIR": str(self.run_dir / "files"),
            "GONGJUE_FRONTEND_DIST": str(FRONTEND_DIST),
            "GONGJUE_PUBLIC_BASE_URL": "https://gongjue.bench.example",
            # The cast workload changes votes continuously: the per-subject limit is still checked
            # on every vote (its cost is measured) but set too high to refuse any.
            "GONGJUE_VOTES_PER_SUBJECT_PER_MINUTE": "1000000000",
        }


def prepare(run_dir: Path) -> BenchContext:
    """Create the run folder and its signing key, and point this process's settings at them.

    Must run before anything imports app.config's cached settings.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    run_dir.mkdir(parents=True, exist_ok=True)
    key_path = run_dir / "checkpoint_ed25519.pem"
    if not key_path.exists():
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
    ctx = BenchContext(
        run_dir=run_dir, secret_key=secrets.token_urlsafe(48),
        id_hash_key=secrets.token_urlsafe(48), signing_key_path=key_path,
    )
    for key in [k for k in os.environ if k.startswith("GONGJUE_")]:
        del os.environ[key]
    os.environ.update(ctx.app_env(f"sqlite:///{run_dir / 'unused.db'}"))
    return ctx
