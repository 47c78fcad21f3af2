"""The identity registry (`catalog/identities.yaml`): users, their department and role.

One source for every consumer of identities: Trino's group file, the CLI's `--as USER`,
and (later) access rules and contract approvals.
"""
from __future__ import annotations

from collections import defaultdict
from enum import Enum

from pydantic import BaseModel, Field, field_validator

from govlake.core import config
from govlake.core.errors import IdentityError
from govlake.core.settings import Settings


class Role(str, Enum):
    steward = "steward"
    analyst = "analyst"
    compliance = "compliance"
    operator = "operator"


class Identity(BaseModel):
    user: str = Field(pattern=r"^[a-z][a-z0-9_]{1,62}$")
    department: str = Field(pattern=r"^[a-z][a-z0-9_]{1,31}$")
    role: Role
    name: str = ""

    @property
    def groups(self) -> list[str]:
        # `team_<department>_<role>` lets one access rule require both department and role
        return [f"dept_{self.department}", f"role_{self.role.value}", f"team_{self.department}_{self.role.value}"]


class IdentityRegistry(BaseModel):
    identities: list[Identity]

    @field_validator("identities")
    @classmethod
    def _unique(cls, v: list[Identity]) -> list[Identity]:
        seen: set[str] = set()
        for ident in v:
            if ident.user in seen:
                raise ValueError(f"user `{ident.user}` is listed twice")
            seen.add(ident.user)
        return v

    def get(self, user: str) -> Identity:
        for ident in self.identities:
            if ident.user == user:
                return ident
        known = ", ".join(i.user for i in self.identities)
        raise IdentityError(f"unknown user `{user}`; known users: {known} (catalog/identities.yaml)")


def load(settings: Settings) -> IdentityRegistry:
    path = settings.identities_path
    return config.load_model(path, IdentityRegistry, "identity registry")


def trino_group_file(registry: IdentityRegistry) -> str:
    """Trino's file group provider format: `group:user1,user2` per line."""
    members: dict[str, list[str]] = defaultdict(list)
    for ident in registry.identities:
        for g in ident.groups:
            members[g].append(ident.user)
    return "".join(f"{g}:{','.join(users)}\n" for g, users in sorted(members.items()))
