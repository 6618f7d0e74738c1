"""Provable assets: C2PA Content Credentials signed on this machine, a model-licence gate and
a campaign lockfile.

Nothing here imports c2pa, cryptography or torch at import time: the signing and reading code
loads them inside the functions that need them (``sign``, ``verify``, ``keys``), so a draft run
without keys never pays for them.

* :mod:`.config`   — the ``provenance:``, ``usage:``, ``licenses:`` and ``allow_models:`` settings
* :mod:`.keys`     — ``assetkit keys init``; loading and checking a signing identity
* :mod:`.manifest` — what the C2PA manifests of a master and of a delivered asset say
* :mod:`.sign`     — :class:`RunProvenance` (one per run) and :func:`sign_asset`, the last write
* :mod:`.verify`   — ``assetkit verify``
* :mod:`.licenses` — model cards' licences and the gate
* :mod:`.lock`     — ``assetkit.lock``, ``--locked`` and ``diff-lock``
"""
