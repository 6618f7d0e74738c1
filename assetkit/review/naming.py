"""The delivery naming template (``delivery.naming`` in assetkit.yaml): fields and its check."""
from __future__ import annotations

import string

DEFAULT_NAMING = "{campaign}_{platform}_{format}_{locale}_{concept}-v{variant}.{ext}"
NAMING_FIELDS = ("campaign", "platform", "format", "locale", "concept", "variant", "ext", "width", "height",
                 "size", "format_class")


def check_naming(template: str) -> str:
    """ValueError unless ``template`` only names known fields, has no folders and ends in ``.{ext}``."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(f"naming template {template!r} is not valid ({exc})") from None
    for _, name, spec, conv in parsed:
        if name is None:
            continue
        if name not in NAMING_FIELDS:
            raise ValueError(f"naming template {template!r}: unknown field {{{name}}}; fields: "
                             + ", ".join("{" + f + "}" for f in NAMING_FIELDS))
        if spec or conv:
            raise ValueError(f"naming template {template!r}: {{{name}}} takes no format spec or conversion")
    if "/" in template or "\\" in template:
        raise ValueError(f"naming template {template!r}: a file name, no folders (the package has a folder per "
                         "platform and locale)")
    if not template.endswith(".{ext}"):
        raise ValueError(f"naming template {template!r} must end with .{{ext}}")
    return template
