"""The strict base model shared by every part of the scenario schema."""

from __future__ import annotations

import difflib
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from sim.scenario.limits import MAX_MAGNITUDE

#: A finite number within +-MAX_MAGNITUDE: every real number of a scenario is one.
Real = Annotated[float, Field(ge=-MAX_MAGNITUDE, le=MAX_MAGNITUDE)]


class Strict(BaseModel):
    """Base of every scenario model: unknown keys are an error with a 'did you mean' hint."""

    # strict: no quiet coercion ('3' or true for a number); no infinities or NaN anywhere.
    model_config = ConfigDict(extra="forbid", populate_by_name=True, strict=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown_keys(cls, data: object) -> object:
        if isinstance(data, dict):
            known = {field.alias or name for name, field in cls.model_fields.items()}
            for key in data:
                if key not in known:
                    close = difflib.get_close_matches(str(key), sorted(known), n=1, cutoff=0.6)
                    hint = f"; did you mean '{close[0]}'?" if close else f"; expected one of {', '.join(sorted(known))}"
                    raise PydanticCustomError("unknown_key", "unknown key '{key}'{hint}", {"key": key, "hint": hint})
        return data


class Sourced(Strict):
    source: str | list[str] | None = Field(
        None, description="Verbatim quote(s) from the scenario's seed article that support this entry."
    )
    cite: str | list[str] | None = Field(
        None, description="Address(es) of sources listed in one of the scenario's reference files."
    )
