// Package directory keeps each organisation's phonebook — folders, entries and
// their addresses — syncs it from LDAP and Active Directory, and serves it to
// endpoints in their own protocols.
//
// It owns its tables and must not import bridge, cdr or webadmin.
package directory
