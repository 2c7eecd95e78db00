"""The site: what ties the apps into one program — the home page and the menu, the audit log page,
the demo and benchmark commands, the worker's job list. It may import every app; no app imports it
(the layers are in docs/architecture.md and checked by ``make lint``)."""
