// Package sipcall owns Bifrost's SIP legs: the SIP user agent built on
// github.com/emiago/sipgo, its UDP and TCP listeners, and the answer every
// incoming request gets.
//
// For now the server answers OPTIONS (RFC 3261 §11) and refuses every other
// request with the status RFC 3261 prescribes for it; INVITE handling (calls
// into rooms) comes next and will reach the bridge through a small interface
// owned by the bridge, never by importing it.
//
// sipcall must not import storage packages (migrations, directory, cdr) nor
// webadmin: what a call needs from storage arrives through that interface.
package sipcall
