"""The compiled read path: the case list, ``case`` and ``node`` answered by one SQL statement.

The resolver path costs a page of 50 cases about 700 field completions in graphql-core, a dozen
ORM queries and thousands of model instances. Like pg_graphql, PostGraphile and Hasura, this path
compiles the validated selection into SQL that builds the response's data as JSON in the database
(``json_build_object``/``json_agg`` on PostgreSQL, ``json_object``/``json_group_array`` on SQLite,
one correlated subquery per selected relation), then makes one pass over it in Python for what
only Python knows: the values' GraphQL serialisation, labels, global IDs, cursors, and the
decryption and masking of personal numbers, with the reveal audited as the resolvers do.

- ``selection``: the document → a plan of the fields asked for, or ``NotCompilable``;
- ``compile``: the plan and the arguments → SQL for the dialect (jurisdiction as predicates);
- ``masking``: a person's fields as ``types.Person`` shows them to the asker;
- ``execute``: runs the SQL and shapes the answer;
- ``http``: the hook in the ``/graphql`` endpoint (``ZONGZHI_COMPILED_READS``).

Anything outside the compiled subset (another field, a directive, a mutation, a subscription,
an argument the compiler does not translate, and every request that would answer with an error)
goes through Strawberry as before, so the answer is the same JSON either way
(``tests/platform/readpath/`` compares the two paths on generated documents).
"""
