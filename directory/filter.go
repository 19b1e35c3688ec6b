package directory

import (
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// maxFilterLen bounds an admin's filter; real ones are a few hundred bytes.
const maxFilterLen = 4096

// ValidateFilter checks an admin-entered LDAP search filter (RFC 4515) by
// compiling it with go-ldap, so a typo is reported when the source is saved,
// not at the first sync.
func ValidateFilter(f string) error {
	f = strings.TrimSpace(f)
	if f == "" {
		return invalid("empty filter")
	}
	if len(f) > maxFilterLen {
		return invalid("filter longer than %d bytes", maxFilterLen)
	}
	if _, err := ldap.CompileFilter(f); err != nil {
		return invalid("filter %q: %v", f, err)
	}
	return nil
}

// SearchFilter returns base AND the equality or substring match of a user's
// search text on attr, the text escaped (RFC 4515 §3) so that `*`, `(` or `)`
// in it are taken literally.
func SearchFilter(base, attr, text string) string {
	return "(&" + base + "(" + attr + "=*" + ldap.EscapeFilter(text) + "*))"
}
