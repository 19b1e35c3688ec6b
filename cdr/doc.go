// Package cdr keeps call detail records: conferences and the legs of their
// participants, written durably from the bridge's call events, exported, pushed to
// event sinks, and anonymised after the organisation's retention period.
//
// It owns its tables and must not import bridge, directory or webadmin;
// cmd/bifrost adapts it to bridge.CallObserver.
package cdr
