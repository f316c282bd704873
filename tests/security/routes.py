"""The URL configuration, flattened: the walk the IDOR sweep and the every-page tests share."""

import re
from collections.abc import Iterator
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver

PARAMETER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>|\(\?P<(?P<regex_name>\w+)>(?P<regex>[^)]*)\)")


@dataclass(frozen=True)
class Route:
    """One URL pattern, flattened: its full regex-free template, namespace and id parameters."""

    template: str
    namespace: str
    parameters: tuple[str, ...]


def walk_routes(patterns: list, prefix: str = "", namespace: str = "") -> Iterator[Route]:
    """Every URL pattern under `patterns`, flattened, with the namespace that encloses it."""
    for pattern in patterns:
        text = prefix + str(pattern.pattern).lstrip("^").rstrip("$")
        if isinstance(pattern, URLResolver):
            yield from walk_routes(pattern.url_patterns, text, pattern.namespace or namespace)
        elif isinstance(pattern, URLPattern):
            names = tuple(m["name"] or m["regex_name"] for m in PARAMETER.finditer(text))
            yield Route(template=text, namespace=namespace, parameters=names)


def build(route: Route, values: dict[str, str]) -> str:
    """The URL for `route` with each parameter replaced by its value."""

    def substitute(match: re.Match) -> str:
        return values[match["name"] or match["regex_name"]]

    path = PARAMETER.sub(substitute, route.template).replace("\\.", ".")
    return "/" + path
