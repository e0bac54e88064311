"""The package's type tokens (`serverless:<module>:<Type>`), and the aliases that keep stacks built before them.

Releases up to 0.3 registered every component under a `todo:` token. A component's type is part of its
URN and of every child's, and Pulumi takes a changed URN for a new resource (it would create the new one
and delete the old: a table would lose its data). So each component also answers to its former token:
`with_former_token` adds `Alias(type_="todo:<module>:<Type>")`, and the engine derives the children's
former URNs from it; nothing is replaced.
"""

from __future__ import annotations

import pulumi

PREFIX = "serverless"
FORMER_PREFIX = "todo"


def type_token(module_and_type: str) -> str:
    """The package's token of a component: `type_token("api:ApiTier") == "serverless:api:ApiTier"`."""
    return f"{PREFIX}:{module_and_type}"


def former_token(token: str) -> str:
    """The token a component had up to 0.3: `former_token("serverless:api:ApiTier") == "todo:api:ApiTier"`."""
    return FORMER_PREFIX + token.removeprefix(PREFIX)


def with_former_token(module_and_type: str, opts: pulumi.ResourceOptions | None) -> pulumi.ResourceOptions:
    """`opts` plus the alias to the component's former token, so a stack built before the rename keeps it."""
    return pulumi.ResourceOptions.merge(
        opts, pulumi.ResourceOptions(aliases=[pulumi.Alias(type_=former_token(type_token(module_and_type)))])
    )
