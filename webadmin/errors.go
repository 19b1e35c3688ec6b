package webadmin

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors of the store and the handlers. Handlers map them to HTTP
// statuses in one place (apiError, pageError).
var (
	// ErrNotFound is returned for an object that does not exist or belongs to
	// another organisation: the two are indistinguishable on purpose.
	ErrNotFound = errors.New("webadmin: not found")
	// ErrForbidden is returned when the principal's role does not allow the action.
	ErrForbidden = errors.New("webadmin: forbidden")
	// ErrUnauthenticated is returned when a request carries no valid session or token.
	ErrUnauthenticated = errors.New("webadmin: not signed in")
	// ErrBadCredentials is returned for a wrong e-mail or password.
	ErrBadCredentials = errors.New("webadmin: wrong e-mail or password")
)

// ValidationError says which field of an input is wrong and why.
type ValidationError struct {
	Field   string
	Message string
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("webadmin: %s: %s", e.Field, e.Message)
}

func invalid(field, format string, a ...any) error {
	return &ValidationError{Field: field, Message: fmt.Sprintf(format, a...)}
}

// ConflictError says that a unique value (an alias, an e-mail) is taken.
type ConflictError struct {
	Field   string
	Message string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("webadmin: %s: %s", e.Field, e.Message)
}

// ThrottledError is returned by Login while an account or an address is locked
// out after too many failed sign-ins.
type ThrottledError struct {
	// Until is when the next attempt is accepted.
	Until time.Time
}

func (e *ThrottledError) Error() string {
	return "webadmin: too many failed sign-ins"
}
