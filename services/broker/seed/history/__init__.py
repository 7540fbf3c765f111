"""Years of requests on a seeded directory, for benchmarks at the province's scale: each request
gets the rows the real paths write (filing: the request, its steps and approvers, the `submitted`,
`routed` and approval events; deciding: decisions, escalations, clarifications, the final event,
the grant with its change rows; the notifier: a delivery and its attempts per webhook; the audit
rows of decisions and grants), as tuples in the tables' column order for COPY
(seed/history/load.py). Pure but for the randomness, which a seed fixes.

Routes are planned by `plan_route` over the directory as it stood that month, with the default
policy and each dataset's grade, so they are the routes filing would have planned. The kinds
(`kinds.py`): shares and returns of the catalog's datasets, 2 % demands (an approved one becomes
a draft catalog entry) and 3 % IT projects (vetoed, not rejected). The proportions (about a
third of the catalog unconditional; 7 % of steps lapsing once, 6 % held for a clarification, 10 %
refused, 2 % cancelled, 3 % of grants revoked) are a guess at a working scheme, not data. An
approval that grants personal fields says why, as minimisation requires.

Audit rows are chained as `audit.record` chains them: one transaction's rows on the chain of
its first row's subject, each row's hash the HMAC of `previous|canonical content` under the
current AUDIT_KEY, so `cdo-broker audit verify` walks them as it walks rows the broker wrote.
"""
