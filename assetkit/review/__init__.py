"""Review, approval and hand-off: the local review app, decisions in the ledger, delivery packages.

Modules: ``catalog`` (a campaign folder's assets by id), ``store`` (decisions and deliveries in the
ledger file), ``states`` (where each asset stands), ``service`` (the library object the app and
CLI call), ``app``/``server`` (Starlette on uvicorn), ``pages`` (server-side HTML),
``static_gallery``, ``deliver``, ``naming``, ``rollup`` (review time and rejections for savings).
Nothing here imports starlette or uvicorn at module level except ``app``'s route factory.
"""
