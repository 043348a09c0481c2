"""Schemas shared by both API versions."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictFloat

AttributeValue = Annotated[StrictFloat, Field(allow_inf_nan=False)]
Attributes = dict[str, AttributeValue]
