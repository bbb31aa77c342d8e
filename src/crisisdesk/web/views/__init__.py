"""The htmx pages, one module per use case.

- `common`: role guards (`role_page`), error mapping, the words shown to people, htmx plumbing and the
  rows more than one page shows.
- `auth`: login and the home page that sends each role to its page.
- `console`: the telecommunicator console and its live partials.
- `queue`: the social worker's queue, availability, claim/decline, the call, complete and escalate.
- `floor`: the supervisor's floor, the supervisor's casework view and the evaluator's numbers.
- `casework`: the social worker's case workspace (one screen per case) and my cases; `case_actions`:
  the workspace's POSTs; `followups`: the follow-up worklist; `case_words`: the words for casework codes.

Views are thin: they parse input with `web.forms`, write only through `calls.services` and
`casework.services`, read through `calls.queries` and `casework.queries`, and turn expected failures into a visible message with the
status code of DESIGN.md §3.10 (409 for a transfer that changed under the user, 422 for bad input,
403/404 for the wrong role). Polling endpoints live under `.../live/` and run
`services.expire_transfers()` first, so a timeout shows up without any background job.

`web.urls` imports the view functions from these modules. The package deliberately re-exports
nothing: `console`, `queue` and `floor` are both module and view names, and a package attribute that
is sometimes the module and sometimes the function is a trap.
"""
