// Package bridge owns virtual meeting rooms, their participants and the media core
// that mixes audio and switches video between them.
//
// Protocol legs (bridge/sipcall, later bridge/webcall and bridge/h323call) join rooms
// through this package; storage reaches it only through the small interfaces it
// declares (a Resolver for dialled aliases, a CallObserver for call records), which
// cmd/bifrost adapts. It must not import migrations, directory, cdr or webadmin.
package bridge
