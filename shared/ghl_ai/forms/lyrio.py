"""Contact forms from the agent's website (Lyrio): the validated submission that travels from
the intake to the worker. The intake parses JSON or form-encoded bodies into it (see
functions/intake/app.py); the worker upserts the GHL contact and starts qualification."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_NON_DIGITS = re.compile(r"[^\d+]")

#: The form's hidden field that humans leave empty and bots fill in.
HONEYPOT_FIELD = "website"


def normalise_phone(value: str) -> str:
    """US-centric E.164: 10 digits get +1 in front; 11 digits starting with 1 get +; a number
    written with a leading + and 8 to 15 digits is kept as it is."""
    raw = _NON_DIGITS.sub("", value)
    digits = raw.lstrip("+")
    # ASCII digits only: str.isdigit() also takes other scripts' digits, which cannot be texted.
    if not (digits.isascii() and digits.isdigit()):
        raise ValueError("phone must contain digits 0-9")
    if raw.startswith("+") and 8 <= len(digits) <= 15:
        return "+" + digits
    if len(digits) == 10:
        return "+1" + digits
    if len(digits) == 11 and digits.startswith("1"):
        return "+" + digits
    raise ValueError("phone must be a 10-digit US number or +country format")


class LyrioForm(BaseModel):
    """A website contact form. Either a phone or an email is required; only a lead who ticked
    the consent box is texted."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, frozen=True)

    first_name: str | None = Field(default=None, max_length=80)
    last_name: str | None = Field(default=None, max_length=80)
    name: str | None = Field(default=None, max_length=160)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=32)
    message: str | None = Field(default=None, max_length=2000)
    intent: Literal["buy", "sell", "both", "rent", "invest"] | None = None
    budget: str | None = Field(default=None, max_length=80)
    timeline: str | None = Field(default=None, max_length=80)
    listing_id: str | None = Field(default=None, max_length=64)
    listing_address: str | None = Field(default=None, max_length=200)
    consent: bool = False
    source_page: str | None = Field(default=None, max_length=500)
    utm_source: str | None = Field(default=None, max_length=100)
    utm_medium: str | None = Field(default=None, max_length=100)
    utm_campaign: str | None = Field(default=None, max_length=100)
    utm_term: str | None = Field(default=None, max_length=100)
    utm_content: str | None = Field(default=None, max_length=100)
    #: The website's visitor id (the tracking script's ``ghl_vid``): the visitor's earlier
    #: browsing becomes this lead's once the form names the contact.
    visitor_id: str | None = Field(default=None, max_length=128, pattern=r"^[A-Za-z0-9._:\-]+$")

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not _EMAIL.match(value):
            raise ValueError("email is not a valid address")
        return value.lower()

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        return normalise_phone(value)

    @field_validator("intent", mode="before")
    @classmethod
    def _intent(cls, value: object) -> object:
        if isinstance(value, str):
            word = value.strip().lower()
            return {"buying": "buy", "selling": "sell", "renting": "rent"}.get(word, word) or None
        return value

    @field_validator("consent", mode="before")
    @classmethod
    def _consent(cls, value: object) -> object:
        # HTML checkboxes post "on"; JSON clients send booleans.
        if isinstance(value, str):
            return value.strip().lower() in ("on", "true", "yes", "1", "checked")
        return value

    @model_validator(mode="after")
    def _reachable(self) -> LyrioForm:
        if not (self.phone or self.email):
            raise ValueError("a phone or an email is required")
        return self

    @property
    def first(self) -> str | None:
        if self.first_name:
            return self.first_name
        return self.name.split()[0] if self.name else None

    @property
    def last(self) -> str | None:
        if self.last_name:
            return self.last_name
        parts = self.name.split() if self.name else []
        return " ".join(parts[1:]) or None
