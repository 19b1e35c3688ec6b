package phonebook

import "errors"

// Sentinel errors of the phonebook. Callers test them with errors.Is.
var (
	// ErrNotFound: no token, folder or organisation of that name or ID.
	ErrNotFound = errors.New("phonebook: not found")
	// ErrInvalid: a field is missing or malformed; the wrapping error says which.
	ErrInvalid = errors.New("phonebook: invalid")
	// ErrTooLarge: a request body over the limit.
	ErrTooLarge = errors.New("phonebook: request too large")
	// ErrUnknownOperation: a SOAP operation the service does not offer.
	ErrUnknownOperation = errors.New("phonebook: unknown operation")
	// ErrMalformed: a request that does not parse.
	ErrMalformed = errors.New("phonebook: malformed request")
)
