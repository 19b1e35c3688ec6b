// Package cdr keeps call detail records: conferences and the legs of their
// participants, written durably from the bridge's call events, exported, pushed to
// event sinks, and anonymised after the organisation's retention period. It also
// answers the data processing agreement's subject access and erasure requests,
// deletes organisations whole and removes admin accounts unused for a year.
//
//   - Writer (writer.go, spool.go, store.go): asynchronous, never blocks the
//     bridge; spools to the data directory while PostgreSQL is away and replays
//     in order; idempotent on the bridge's UUIDs; closes the legs a crashed run
//     left open with end reason bridge_restart at their last heartbeat.
//   - Retention (retention.go): NULLs the identifying leg columns after
//     organisations.usage_retention in SKIP LOCKED batches, audited. Other
//     packages' usage data (the phonebook request log) plug in as Anonymiser.
//   - Delivery (delivery.go, sink.go): per-organisation HTTP event sinks fed
//     from a durable queue in PostgreSQL, in sequence, with back-off.
//   - Privacy (privacy.go): Export, Erase, DeleteOrganisation,
//     DeleteInactiveAdmins. Other packages' personal data (directory entries,
//     the phonebook log) plug in as SubjectSource.
//   - Statistics (stats.go): calls, minutes, peak concurrent legs and the
//     share of lossy legs per UTC day, from SQL aggregates, for the admin's
//     charts (drawn by the subpackage chart, which knows nothing of CDRs).
//   - Jobs (jobs.go): the daily run of retention and inactive-admin deletion.
//
// It owns its tables (migration 0004) and must not import bridge, directory or
// webadmin; cmd/bifrost adapts it to bridge.CallObserver.
package cdr
