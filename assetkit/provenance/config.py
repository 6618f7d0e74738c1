"""Settings of provable assets (``assetkit.yaml``): signing keys, usage, allowed licences.

```yaml
provenance:
  cert: keys/chain.pem        # signer certificate, then its CA (PEM), relative to this file
  key: keys/signer.key        # private key, mode 0600 (or the env var named by key_env)
  tsa_url: null               # RFC 3161 timestamp authority; null = none (runs stay offline)
  required: false             # true: a run without usable keys is an error, nothing is written unsigned
  trust_anchors: keys/ca.pem  # CAs `assetkit verify` trusts
  thumbnail: false            # embed a thumbnail in each manifest (~30 KB more per file)
usage: commercial             # default usage of a campaign (a brief's `usage:` wins)
licenses: {research: [...]}   # replaces the built-in allowed licence ids of a usage
annual_revenue_usd: null      # for licences with a revenue threshold (Stability Community)
allow_models:
  - {model: my-finetune, reason: "licence cleared by legal, ticket #123"}
```
"""
from __future__ import annotations

import difflib
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, Field

from ..config_base import StrictModel
from .licenses import CATALOG, USAGES, ModelUse, Usage, default_allowed

#: Environment variable that may hold the signing key (PEM) instead of a key file.
KEY_ENV = "ASSETKIT_C2PA_KEY"


class ProvenanceSettings(StrictModel):
    """Where the C2PA signing identity is and how assets are signed."""

    cert: str | None = Field(None, description="certificate chain PEM: signer first, then its CA")
    key: str | None = Field(None, description="private key PEM file with mode 0600")
    key_env: str = Field(KEY_ENV, description="environment variable that may hold the private key PEM")
    tsa_url: str | None = Field(None, description="timestamp authority URL (null: none, fully offline)")
    required: bool = Field(False, description="refuse to write unsigned assets")
    trust_anchors: str | None = Field(None, description="PEM of the CAs `assetkit verify` trusts")
    thumbnail: bool = Field(False, description="embed a thumbnail in every manifest")


class ModelException(StrictModel):
    """An ``allow_models:`` entry: one model allowed whatever its licence, for a recorded reason."""

    model: str = Field(description="model name (as in the manifest), its path, or sha256:<prefix of weights hash>")
    reason: str = Field(min_length=3, description="why this model may be used (recorded in manifest and report)")
    license: str | None = Field(None, description="the licence the exception was cleared for (optional)")

    def matches(self, use: ModelUse) -> bool:
        m = self.model.strip()
        if m.startswith("sha256:"):
            prefix = m[len("sha256:"):].lower()
            return len(prefix) >= 12 and use.weights_sha256.startswith(prefix)
        if self.license is not None and self.license != use.license:
            return False
        return m in (use.name, use.path) or Path(m).name == Path(use.path).name


def _license_id(v: str) -> str:
    if v not in CATALOG:
        close = difflib.get_close_matches(v, list(CATALOG), n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"known ids: {', '.join(CATALOG)}"
        raise ValueError(f"unknown licence id {v!r}; {hint} (a model with another licence needs an "
                         "allow_models: entry)")
    return v


LicenseId = Annotated[str, AfterValidator(_license_id)]


class LicensePolicy(StrictModel):
    """Which licences each usage allows (built-in defaults, replaced per usage) and the exceptions."""

    licenses: dict[Usage, list[LicenseId]] = Field(default_factory=dict)
    annual_revenue_usd: int | None = Field(None, ge=0)
    allow_models: list[ModelException] = Field(default_factory=list)

    def allowed(self, usage: str) -> list[str]:
        return list(self.licenses.get(usage, default_allowed(usage)))  # type: ignore[call-overload]

    def exception_for(self, use: ModelUse) -> ModelException | None:
        return next((e for e in self.allow_models if e.matches(use)), None)


__all__ = ["KEY_ENV", "USAGES", "LicensePolicy", "ModelException", "ProvenanceSettings"]
