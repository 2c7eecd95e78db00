"""The network API, by behaviour: scope, the whole flow, contacts, refusals, reading."""
