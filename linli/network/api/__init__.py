"""The network API: the people of a community's network, its chiefs (三长制) with their decisions
and assignments, the neighbourhood associations and volunteer teams, contact records (home visits,
patrols, reception days) and visit coverage — scoped exactly like the pages.

Reads go through ``network.queries`` (404 outside the user's scope), writes through
``network.actions`` (one transaction each, audited, safe to retry). Phone numbers are masked in
every answer; a decrypted number never leaves the server.

Errors: 401 without a valid token or session; 404 for anything outside the user's scope (as if it
did not exist), and for the lists when the user may see no part of any network at all (a user who
may see some gets a list, possibly empty); 403 when the user may see the object (or the place) but
not do what was asked (managing the network needs the community worker's right on the community,
logging a contact the right to log visits at the place); 409 when the chief's current status
forbids the step (nothing changes; the answer gives the status); 400 when the data is refused by
the network's rules, with a message per field (nothing is written); 422 when the request itself
does not fit the schema.

Steps that are already done answer as if they had just been done: recruiting a person for a kind
of chief they already hold, assigning a building the chief already looks after, adding a member
who is already in, ending an ended assignment or membership, deciding the status a chief already
has, and sending a contact record again with the same ``client_key`` (200 with ``repeated: true``
instead of 201).

One module per resource, each with its own schemas and a router included here: ``people``,
``chiefs`` (and their assignments), ``groups`` (associations and teams), ``contacts`` and
``coverage``; ``common`` holds what they share. Errors come from ``linli.core.api``.
"""

from ninja import Router

from . import chiefs, contacts, coverage, groups, people

router = Router(tags=["network"])
# In this order, the OpenAPI document lists the operations and their schemas as it always has.
for module in (people, chiefs, groups, contacts, coverage):
    router.add_router("", module.router)
