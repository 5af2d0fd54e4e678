"""Parsed documents kept between requests: front ends send the same few dozen query texts.

Strawberry's ``ParserCache`` parses inside the extension hook, where a syntax error escapes the
error handling that gives it its ``GRAPHQL_PARSE`` code. This one caches only documents that
parse, and leaves a failing text to Strawberry's own parse, which reports it as usual.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from graphql.error import GraphQLError
from graphql.language import DocumentNode
from graphql.language.parser import parse
from strawberry.extensions import SchemaExtension

#: Distinct query texts whose parsed and validated documents are kept.
DOCUMENT_CACHE_SIZE = 256


@lru_cache(maxsize=DOCUMENT_CACHE_SIZE)
def _parsed(query: str, max_tokens: int | None) -> DocumentNode | None:
    try:
        return parse(query, max_tokens=max_tokens)
    except GraphQLError:
        return None


class ParsedDocuments(SchemaExtension):
    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is None and context.query:
            options = context.parse_options
            if set(options) <= {"max_tokens"}:
                context.graphql_document = _parsed(context.query, options.get("max_tokens"))
        yield
