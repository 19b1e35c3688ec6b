package directory

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"fmt"
)

// sealSecret encrypts a secret at rest with AES-256-GCM under key (32 bytes),
// bound to what it belongs to (aad) so that a ciphertext copied to another row
// does not decrypt. The result is the 12-byte nonce followed by the ciphertext.
func sealSecret(key []byte, plaintext, aad string) ([]byte, error) {
	gcm, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("directory: nonce: %w", err)
	}
	return gcm.Seal(nonce, nonce, []byte(plaintext), []byte(aad)), nil
}

// openSecret reverses sealSecret.
func openSecret(key, sealed []byte, aad string) (string, error) {
	gcm, err := newGCM(key)
	if err != nil {
		return "", err
	}
	if len(sealed) < gcm.NonceSize() {
		return "", fmt.Errorf("%w: stored secret is truncated", ErrSecretKey)
	}
	pt, err := gcm.Open(nil, sealed[:gcm.NonceSize()], sealed[gcm.NonceSize():], []byte(aad))
	if err != nil {
		return "", fmt.Errorf("%w: cannot decrypt the stored secret (was secret_key changed?)", ErrSecretKey)
	}
	return string(pt), nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("%w: want 32 bytes, have %d", ErrSecretKey, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSecretKey, err)
	}
	return cipher.NewGCM(block)
}
