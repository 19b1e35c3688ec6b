// Package secretbox encrypts the secrets Bifrost must be able to use again and
// so cannot hash — LDAP bind passwords, event sinks' passwords and tokens — at
// rest, with AES-256-GCM under the deployment's 32-byte secret key (config
// secret_key, or <data_dir>/secret.key).
package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// ErrKey means the key is not 32 bytes or does not open a stored secret (the
// secret_key changed, or the ciphertext was copied to another row).
var ErrKey = errors.New("secretbox: secret key")

// Seal encrypts plaintext under key, bound to what it belongs to (aad, e.g.
// "cdr_sinks/<id>") so that a ciphertext copied to another row does not open.
// The result is the 12-byte nonce followed by the ciphertext and tag.
func Seal(key []byte, plaintext, aad string) ([]byte, error) {
	gcm, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("secretbox: nonce: %w", err)
	}
	return gcm.Seal(nonce, nonce, []byte(plaintext), []byte(aad)), nil
}

// Open reverses Seal.
func Open(key, sealed []byte, aad string) (string, error) {
	gcm, err := newGCM(key)
	if err != nil {
		return "", err
	}
	if len(sealed) < gcm.NonceSize() {
		return "", fmt.Errorf("%w: stored secret is truncated", ErrKey)
	}
	pt, err := gcm.Open(nil, sealed[:gcm.NonceSize()], sealed[gcm.NonceSize():], []byte(aad))
	if err != nil {
		return "", fmt.Errorf("%w: cannot decrypt the stored secret (was secret_key changed?)", ErrKey)
	}
	return string(pt), nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("%w: want 32 bytes, have %d", ErrKey, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	return cipher.NewGCM(block)
}
