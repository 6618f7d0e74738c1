"""Signing delivered assets with C2PA Content Credentials: one :class:`RunProvenance` per run.

:func:`sign_asset` is the export step's last change to a file's bytes: the encoded (and, when
that step exists, weight-optimised) bytes go in, the signed bytes come out and are written with
the same atomic temp+rename. Anything that re-encodes the file afterwards would strip the
manifest, so nothing may.
"""
from __future__ import annotations

import io
import threading
from collections import OrderedDict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from ..files import MAX_IMAGE_BYTES, read_input
from .manifest import MIME, asset_manifest, master_manifest

if TYPE_CHECKING:  # pragma: no cover
    from ..outroot import OutRoot
    from ..state import Master
    from .keys import SigningIdentity

#: Signed masters kept in memory per run (a master's deliverables are exported together).
_MASTERS_KEPT = 16


def make_signer(identity: SigningIdentity):
    """A c2pa Signer for an identity (no timestamp authority unless ``tsa_url`` is set)."""
    import c2pa

    return c2pa.Signer.from_info(c2pa.C2paSignerInfo(identity.alg, identity.chain_pem, identity.key_pem,
                                                     identity.tsa_url))


class RunProvenance:
    """What a run needs to sign its assets, and what it says about them in the manifest.

    ``identity`` None means unsigned (``unsigned_reason`` says why); ``run_info`` is the
    run-wide part of assetkit's assertion (run id, brief hash, models and licences...).
    """

    def __init__(self, identity: SigningIdentity | None, run_info: dict, thumbnail: bool = False,
                 unsigned_reason: str = ""):
        self.identity = identity
        self.run_info = run_info
        self.thumbnail = thumbnail
        self.unsigned_reason = unsigned_reason
        self._local = threading.local()
        self._lock = threading.Lock()
        self._masters: OrderedDict[str, bytes] = OrderedDict()
        self._master_locks: dict[str, threading.Lock] = {}
        self._files: dict[Path, bytes] = {}
        self._context = None

    @property
    def signed(self) -> bool:
        return self.identity is not None

    def fingerprint(self) -> dict:
        """What changes the delivered bytes: whether, and by whom, assets are signed."""
        if self.identity is None:
            return {"signed": False}
        return {"signed": True, "cert": self.identity.cert_sha256, "thumbnail": self.thumbnail,
                "tsa": self.identity.tsa_url}

    def describe(self) -> dict:
        """The manifest's ``provenance.signing`` record."""
        if self.identity is None:
            return {"signed": False, "reason": self.unsigned_reason}
        return self.identity.describe()

    # ------------------------------------------------------------------------------- c2pa objects
    def _c2pa(self):
        import c2pa

        with self._lock:
            if self._context is None:
                # no re-read of each file right after signing it (c2pa's self-check doubles the hashing;
                # `assetkit verify` and the tests read the files back); ingredients are still validated
                # and their validation results recorded
                self._context = c2pa.Context.from_dict({"builder": {"thumbnail": {"enabled": self.thumbnail}},
                                                        "verify": {"verify_after_sign": False}})
        signer = getattr(self._local, "signer", None)
        if signer is None:
            assert self.identity is not None
            signer = self._local.signer = make_signer(self.identity)
        return c2pa, self._context, signer

    def _file(self, path: Path) -> bytes:
        with self._lock:
            data = self._files.get(path)
        if data is None:
            data = read_input(path, MAX_IMAGE_BYTES)  # a regular file still (as validated), never a FIFO
            with self._lock:
                self._files[path] = data
        return data

    # ------------------------------------------------------------------------------------ masters
    def signed_master(self, master: Master, cache: OutRoot, generator: str, agent: str) -> bytes:
        """The master as a signed PNG (``c2pa.created``), made once per master and run.

        The PNG is the master's cache file (``.cache/masters/<key>.png``) when it is on disk,
        else the same encoding of its pixels, so the ingredient's hash is that file's.
        """
        with self._lock:
            if master.key in self._masters:
                return self._masters[master.key]
            lock = self._master_locks.setdefault(master.key, threading.Lock())
        with lock:
            with self._lock:
                if master.key in self._masters:
                    return self._masters[master.key]
            try:
                data = cache.read_bytes(f"{master.key}.png")
            except (OSError, UsageError):  # not written yet (streaming) or not usable: encode it again
                buf = io.BytesIO()
                master.image.save(buf, format="PNG", compress_level=1)  # as GenerateStep._store writes it
                data = buf.getvalue()
            req = master.request
            assertion = {**self.run_info, "master": master.key, "seed": req.seed, "concept": req.concept,
                         "variant": req.variant, "aspect": req.aspect, "width": req.width, "height": req.height}
            manifest = master_manifest(f"master {req.concept} v{req.variant} {req.aspect}.png", generator, agent,
                                       assertion)
            signed = self._sign(manifest, "image/png", data, [])
            with self._lock:
                self._masters[master.key] = signed
                while len(self._masters) > _MASTERS_KEPT:
                    old, _ = self._masters.popitem(last=False)
                    self._master_locks.pop(old, None)
            return signed

    # ------------------------------------------------------------------------------------- assets
    def sign_asset(self, data: bytes, fmt: str, title: str, master: bytes, generator: str,
                   ingredients: dict[str, Path], asset_info: dict) -> tuple[bytes, dict]:
        """Sign an encoded asset: ``master`` (a signed master PNG) is its parent ingredient,
        ``ingredients`` (``logo``, ``product`` → file) are placed on it. Returns the signed bytes
        and the manifest entry's ``c2pa`` record."""
        placed: list[str] = [k for k in ("logo", "product") if k in ingredients]
        assertion = {**self.run_info, **asset_info,
                     "signed_at": datetime.now(UTC).isoformat(timespec="seconds")}
        manifest = asset_manifest(title, fmt, generator, placed, assertion)
        parts: list[tuple[dict, str, bytes]] = [
            ({"title": "master.png", "relationship": "parentOf", "label": "master"}, "image/png", master)]
        for k in placed:
            path = ingredients[k]
            parts.append(({"title": path.name, "relationship": "componentOf", "label": k},
                          _mime_of(path), self._file(path)))
        signed = self._sign(manifest, MIME[fmt], data, parts)
        return signed, {"signed": True, "manifest_bytes": len(signed) - len(data),
                        "ingredients": ["master", *placed]}

    def _sign(self, manifest: dict, mime: str, data: bytes, ingredients: list[tuple[dict, str, bytes]]) -> bytes:
        c2pa, context, signer = self._c2pa()
        builder = c2pa.Builder(manifest, context=context)
        try:
            for ingredient, imime, blob in ingredients:
                builder.add_ingredient(ingredient, imime, io.BytesIO(blob))
            out = io.BytesIO()
            builder.sign(signer, mime, io.BytesIO(data), out)
        finally:
            builder.close()
        return out.getvalue()


def _mime_of(path: Path) -> str:
    ext = path.suffix.lower().lstrip(".")
    return {"jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp"}.get(ext, "image/png")


def run_provenance(ctx: Any) -> RunProvenance | None:
    """The run's :class:`RunProvenance` (set up by the runner), or None outside a run."""
    return getattr(ctx, "provenance", None)


def seal(ctx: Any, state: Any, composed: Any, data: bytes, fmt: str) -> tuple[bytes, dict]:
    """Sign one exported asset (the export step calls this last, right before the atomic write).

    Returns the bytes to write and the manifest entry's ``c2pa`` record; unsigned runs get the
    bytes back unchanged.
    """
    prov = run_provenance(ctx)
    if prov is None or not prov.signed:
        return data, {"signed": False}
    import hashlib
    import time

    t0 = time.perf_counter()

    job = composed.job
    master = state.masters[job.master_id]
    generator = str(state.generator_info.get("name", "draft"))
    agent = (f"assetkit draft generator (assetkit {prov.run_info.get('assetkit', '')})" if generator == "draft"
             else str(state.generator_info.get("model") or generator))
    signed_master = prov.signed_master(master, ctx.cache.sub("masters"), generator, agent)
    ingredients: dict[str, Path] = {}
    logo = ctx.brand.logo_path()
    if logo is not None:
        ingredients["logo"] = logo
    concept = next((c for c in ctx.brief.concepts if c.id == job.concept), None)
    if concept is not None and concept.product:
        ingredients["product"] = ctx.brief.concept_path(concept.product)
    info = {"asset": job.relpath(fmt), "concept": job.concept, "variant": job.variant, "format": job.format.name,
            "locale": job.locale, "seed": job.seed, "master": master.key,
            "content_sha256": hashlib.sha256(data).hexdigest()}
    signed, record = prov.sign_asset(data, fmt, Path(job.relpath(fmt)).name, signed_master, generator, ingredients,
                                     info)
    record["sign_seconds"] = round(time.perf_counter() - t0, 4)  # the master's signing counts for its first asset
    return signed, record
