"""The request lifecycle's SQL, one module for each thing it reads or writes: `locks` (a request
and what is locked with it, in one order), `routes` (steps, approvers, decisions and what hangs off
a request), `authority` (the appointments and delegations in force), `listing` (what a caller
sees, a queue's page among it), `sweeps` (what the SLA job looks for) and `appeals`."""
