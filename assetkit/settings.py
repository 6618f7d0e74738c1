"""Project settings (``assetkit.yaml``): rates and assumptions the savings ledger uses.

Looked up in the working directory unless ``--settings`` names a file; every key has a
documented default (see ``examples/assetkit.yaml``), so a project without the file still works.
All amounts in the file are in ``currency`` (the report currency) unless a key says otherwise.
"""
from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from .config_base import StrictModel
from .errors import FieldError
from .money import FxRate, FxTable, check_currency, to_decimal
from .provenance.config import LicensePolicy, ProvenanceSettings
from .provenance.licenses import Usage
from .review.naming import DEFAULT_NAMING, check_naming
from .yamlfile import load_yaml, validate

#: Name of the settings file looked up in the working directory.
SETTINGS_FILE = "assetkit.yaml"
#: Environment variable that can name the settings file (``--settings`` wins).
SETTINGS_ENV = "ASSETKIT_SETTINGS"


#: No rate in the settings (per hour, per asset) is above this: a larger one is a typo, and
#: 1e20 would overflow the ledger's integer micros.
RATE_LIMIT = Decimal(1_000_000)


def _amount(v: object) -> Decimal:
    d = to_decimal(v)
    if d < 0:
        raise ValueError(f"must be zero or more, got {v}")
    if d > RATE_LIMIT:
        raise ValueError(f"must be at most {RATE_LIMIT:,} (a rate per hour or per asset), got {v}")
    return d


def _nonneg(cls, v: object) -> Decimal:
    return _amount(v)


class ComputeRates(StrictModel):
    """What an hour of compute costs, by device kind (cloud list prices by default)."""

    gpu_hour: Decimal = Decimal("2.50")
    cpu_hour: Decimal = Decimal("0.10")
    mps_hour: Decimal = Decimal("0.50")
    #: Optional amortisation of your own machine per compute hour (purchase price ÷ service hours),
    #: added to the device's rate; 0 when the rates above already are what the hardware costs.
    hardware_per_hour: Decimal = Decimal(0)

    _v = field_validator("gpu_hour", "cpu_hour", "mps_hour", "hardware_per_hour", mode="before")(_nonneg)

    def device_rate(self, device: str | None) -> Decimal:
        """The device's own hourly rate: ``cuda:0`` → GPU, ``mps`` → MPS, else CPU."""
        dev = (device or "cpu").split(":")[0].lower()
        if dev in ("cuda", "gpu", "rocm", "xpu"):
            return self.gpu_hour
        if dev == "mps":
            return self.mps_hour
        return self.cpu_hour

    def per_hour(self, device: str | None) -> Decimal:
        """What an hour of compute on ``device`` costs: its rate plus the hardware amortisation."""
        return self.device_rate(device) + self.hardware_per_hour


class MinutesPerAsset(StrictModel):
    """Human minutes one asset still needs: art direction, review and fixes."""

    art_direction: Decimal = Decimal(0)
    review: Decimal = Decimal(0)
    fixes: Decimal = Decimal(0)

    _v = field_validator("art_direction", "review", "fixes", mode="before")(_nonneg)

    @property
    def total(self) -> Decimal:
        return self.art_direction + self.review + self.fixes


def _default_minutes() -> dict[str, MinutesPerAsset]:
    return {
        "social": MinutesPerAsset(art_direction=3, review=2, fixes=3),
        "display": MinutesPerAsset(art_direction=2, review=2, fixes=2),
        "video": MinutesPerAsset(art_direction=10, review=5, fixes=10),
        "print": MinutesPerAsset(art_direction=10, review=5, fixes=10),
    }


class MinutesPerCampaign(StrictModel):
    """Human minutes a campaign needs once, whatever its size: writing the brief and the copy."""

    brief: Decimal = Decimal(0)
    copy_writing: Decimal = Field(Decimal(0), alias="copy")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, use_attribute_docstrings=True)

    _v = field_validator("brief", "copy_writing", mode="before")(_nonneg)

    @property
    def total(self) -> Decimal:
        return self.brief + self.copy_writing


class HumanMinutes(StrictModel):
    """Estimated human time per deliverable, replaced by real time when it is recorded."""

    per_asset: dict[str, MinutesPerAsset] = Field(default_factory=_default_minutes)
    translation_review_per_locale: Decimal = Decimal(15)
    #: booked once per campaign, with its first run that has a baseline
    per_campaign: MinutesPerCampaign = Field(default_factory=MinutesPerCampaign)

    _v = field_validator("translation_review_per_locale", mode="before")(_nonneg)

    @field_validator("per_asset")
    @classmethod
    def _classes(cls, v: dict[str, MinutesPerAsset]) -> dict[str, MinutesPerAsset]:
        merged = _default_minutes()
        merged.update(v)
        return merged

    def for_class(self, format_class: str) -> MinutesPerAsset:
        return self.per_asset.get(format_class) or self.per_asset["social"]


class FxEntry(StrictModel):
    """One dated rate: 1 ``from`` = ``rate`` ``to``."""

    date: dt.date
    from_: str = Field(alias="from")
    to: str
    rate: Decimal

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("from_", "to")
    @classmethod
    def _cur(cls, v: str) -> str:
        return check_currency(v)

    @field_validator("rate", mode="before")
    @classmethod
    def _rate(cls, v: object) -> Decimal:
        d = to_decimal(v)
        if d <= 0:
            raise ValueError(f"rate must be more than zero, got {v}")
        return d


#: Indicative rates used when assetkit.yaml has no ``fx:`` list (replace them with your finance
#: team's rates: a list in the file replaces this one entirely).
DEFAULT_FX = [
    {"date": "2026-01-01", "from": "USD", "to": "EUR", "rate": "0.86"},
    {"date": "2026-01-01", "from": "GBP", "to": "EUR", "rate": "1.15"},
    {"date": "2026-01-01", "from": "CHF", "to": "EUR", "rate": "1.07"},
]


class ReviewSettings(StrictModel):
    """The review app (``assetkit review``)."""

    reviewer: str | None = Field(None, min_length=1, max_length=80,
                                 description="name recorded with decisions (default: the OS user)")


class DeliverySettings(StrictModel):
    """The hand-off package (``assetkit deliver``)."""

    naming: str = Field(DEFAULT_NAMING, description="file name template of every delivered asset")

    @field_validator("naming")
    @classmethod
    def _naming(cls, v: str) -> str:
        return check_naming(v)


class RunLimits(StrictModel):
    """Limits and warnings for big runs (``runs:`` in assetkit.yaml)."""

    warn_assets: int = Field(2000, ge=1, description="plan and run warn (with a time and disk estimate) above "
                                                     "this many assets to make")
    max_side: int = Field(8000, ge=16, le=16384, description="largest custom format side in pixels (memory grows "
                                                             "with its square: 8192×8192 needed 4.8 GB)")
    contact_sheet_tiles: int = Field(200, ge=1, le=2000, description="assets shown per locale's contact sheet "
                                                                     "(the first ones; a bigger sheet is a huge image)")


class RaySettings(StrictModel):
    """The Ray executor (``executor.ray:`` in assetkit.yaml; ``assetkit run --executor ray``)."""

    address: str | None = Field(None, description="cluster to join: auto, ray://host:10001 or host:6379 "
                                                  "(--ray-address wins); none: start a local Ray instance")
    connect_timeout: float = Field(20, gt=0, le=600, description="seconds to reach the cluster (and for each "
                                                                "node to answer the start-up probe) before "
                                                                "the run fails")
    actors: int = Field(0, ge=0, le=1024, description="model actors (each loads the model once); 0: one per GPU "
                                                      "of the cluster, or one on a CPU-only cluster")
    actor_cpus: float = Field(1, gt=0, le=256, description="CPUs each model actor reserves on a CPU-only cluster "
                                                           "(with GPUs an actor takes one GPU)")
    task_cpus: float = Field(1, gt=0, le=256, description="CPUs each reframe/compose/check/export task reserves")
    model_threads: int = Field(0, ge=0, le=1024, description="torch threads of a model actor; 0: as a local "
                                                             "run uses (the driver's torch threads when it has "
                                                             "torch loaded, else the node's cores): the thread "
                                                             "count changes a CPU model's pixels")
    max_masters_in_flight: int = Field(16, ge=1, le=100_000, description="masters made but not yet exported, "
                                                                         "at most (memory stays bounded)")
    max_retries: int = Field(3, ge=0, le=100, description="retries of a task, and restarts of an actor, whose "
                                                          "worker died")
    num_cpus: int | None = Field(None, ge=1, le=4096, description="CPUs of the local Ray instance started when "
                                                                  "no address is given (none: all)")

    @field_validator("address")
    @classmethod
    def _address(cls, v: str | None) -> str | None:
        if v is not None and not v.strip():
            raise ValueError("give auto, ray://host:10001 or host:6379, or leave it out for a local instance")
        return v


class ExecutorSettings(StrictModel):
    """Where a run's work happens (``executor:`` in assetkit.yaml; ``--executor`` wins)."""

    name: Literal["local", "ray"] = Field("local", description="local: this machine's threads; ray: a Ray "
                                                               "cluster (the [ray] extra)")
    ray: RaySettings = Field(default_factory=RaySettings)


class Settings(LicensePolicy):
    """Validated ``assetkit.yaml``. ``path`` is None when the defaults are in use.

    The model-licence policy (``licenses``, ``annual_revenue_usd``, ``allow_models``) is
    inherited from :class:`~assetkit.provenance.config.LicensePolicy`.
    """

    version: int = Field(1, ge=1, le=1)
    currency: str = "EUR"
    money_locale: str = "en_US"
    compute: ComputeRates = Field(default_factory=ComputeRates)
    internal_hourly_rate: Decimal = Decimal(65)
    tool_cost_per_asset: Decimal = Decimal(0)
    #: A manual ledger entry whose baseline is above this (settings currency) needs --confirm-large.
    manual_entry_limit: Decimal = Decimal(25_000)
    human_minutes: HumanMinutes = Field(default_factory=HumanMinutes)
    fx: list[FxEntry] = Field(default_factory=lambda: [FxEntry(**e) for e in DEFAULT_FX])
    provenance: ProvenanceSettings = Field(default_factory=ProvenanceSettings)
    usage: Usage = Field("commercial", description="default usage of a campaign; a brief's `usage:` wins")
    review: ReviewSettings = Field(default_factory=ReviewSettings)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    runs: RunLimits = Field(default_factory=RunLimits)
    executor: ExecutorSettings = Field(default_factory=ExecutorSettings)
    path: Path | None = Field(None, exclude=True)

    @field_validator("currency")
    @classmethod
    def _cur(cls, v: str) -> str:
        return check_currency(v)

    @field_validator("money_locale")
    @classmethod
    def _loc(cls, v: str) -> str:
        from babel import Locale, UnknownLocaleError

        try:
            Locale.parse(v.replace("-", "_"))
        except (UnknownLocaleError, ValueError):
            raise ValueError(f"unknown locale {v!r}; use one like en_US, de_DE or fr_FR") from None
        return v

    _amounts = field_validator("internal_hourly_rate", "tool_cost_per_asset", mode="before")(_nonneg)

    @field_validator("manual_entry_limit", mode="before")
    @classmethod
    def _limit(cls, v: object) -> Decimal:
        d = to_decimal(v)
        if d <= 0 or d > Decimal(10) ** 9:
            raise ValueError(f"must be more than 0 and at most 1,000,000,000, got {v}")
        return d

    @model_validator(mode="after")
    def _fx_unique(self) -> Settings:
        seen = set()
        for n, e in enumerate(self.fx):
            key = (e.date, e.from_, e.to)
            if key in seen:
                raise FieldError(("fx", n), f"two rates for {e.from_}→{e.to} on {e.date.isoformat()}")
            seen.add(key)
        return self

    @property
    def fx_table(self) -> FxTable:
        return FxTable([FxRate(e.date, e.from_, e.to, e.rate) for e in self.fx])


def find_project_root(start: Path | None = None) -> Path | None:
    """The project folder: the nearest of ``start`` (the working directory) and its parents that
    holds ``assetkit.yaml`` or ``.assetkit/``, as git finds ``.git``; None outside a project."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / SETTINGS_FILE).is_file() or (folder / ".assetkit").is_dir():
            return folder
    return None


def find_settings(path: str | Path | None = None) -> Path | None:
    """The settings file to use: ``path``, else $ASSETKIT_SETTINGS, else the project's
    ``assetkit.yaml`` (this folder or the nearest parent that has one), if any."""
    if path is not None:
        return Path(path)
    env = os.environ.get(SETTINGS_ENV)
    if env:
        return Path(env)
    root = find_project_root()
    found = root / SETTINGS_FILE if root is not None else None
    return found if found is not None and found.is_file() else None


def load_settings(path: str | Path | None = None) -> Settings:
    """Load and validate the settings; defaults when no file is named or found.

    A file that is named explicitly must exist (ConfigError otherwise).
    """
    found = find_settings(path)
    if found is None:
        return Settings()
    doc = load_yaml(found)
    settings = validate(doc, Settings)
    object.__setattr__(settings, "path", found)
    return settings
