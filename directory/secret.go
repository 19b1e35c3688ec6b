package directory

import (
	"fmt"

	"github.com/bifrost-video/bifrost/internal/secretbox"
)

// sealSecret encrypts a bind password at rest (internal/secretbox), bound to
// its row by aad.
func sealSecret(key []byte, plaintext, aad string) ([]byte, error) {
	b, err := secretbox.Seal(key, plaintext, aad)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSecretKey, err)
	}
	return b, nil
}

// openSecret reverses sealSecret.
func openSecret(key, sealed []byte, aad string) (string, error) {
	s, err := secretbox.Open(key, sealed, aad)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrSecretKey, err)
	}
	return s, nil
}
