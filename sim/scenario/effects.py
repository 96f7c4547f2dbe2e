"""Fields an event's effect may change, and how an effect names one.

An effect names an actor field (``actors.<a>.capability``, ``.patience``, ``.risk``,
``.outside_option.value``, ``.preferences.<issue>.ideal`` or ``.salience``) or a position of the status
quo (``status_quo.<issue>``). Results are clipped to the field's bounds.
"""

from __future__ import annotations

from sim.scenario.limits import MAX_WEIGHT

#: Actor fields an event may change, with their admissible bounds (None: the issue's range).
EFFECT_FIELDS: dict[str, tuple[float, float] | None] = {
    "capability": (0.0, MAX_WEIGHT),  # finite caps: repeated multiplications must not overflow
    "patience": (0.0, 1.0),
    "risk": (-1.0, 1.0),
    "outside_option.value": (0.0, 1.0),
    "ideal": None,
    "salience": (0.0, MAX_WEIGHT),
    "status_quo": None,
}


def parse_effect_field(field: str) -> tuple[str | None, str, str | None]:
    """'actors.russia.preferences.tartus.ideal' -> ('russia', 'ideal', 'tartus');
    'actors.russia.outside_option.value' -> ('russia', 'outside_option.value', None);
    'status_quo.tartus' -> (None, 'status_quo', 'tartus').

    Raises ValueError with a readable reason when the path is not a field an event can change."""
    parts = field.split(".")
    if parts[0] == "status_quo":
        if len(parts) != 2:
            raise ValueError("a status-quo effect names status_quo.<issue>")
        return None, "status_quo", parts[1]
    if len(parts) < 3 or parts[0] != "actors":
        raise ValueError("must start with actors.<actor>. or name status_quo.<issue>")
    actor, rest = parts[1], parts[2:]
    if rest[0] == "preferences":
        if len(rest) != 3 or rest[2] not in ("ideal", "salience"):
            raise ValueError("preference effects name actors.<actor>.preferences.<issue>.ideal or .salience")
        return actor, rest[2], rest[1]
    name = ".".join(rest)
    if name not in EFFECT_FIELDS or name in ("ideal", "salience", "status_quo"):
        allowed = ", ".join(k for k in EFFECT_FIELDS if k not in ("ideal", "salience", "status_quo"))
        raise ValueError(f"'{name}' is not an actor field an event can change ({allowed}, preferences.<issue>.*)")
    return actor, name, None
