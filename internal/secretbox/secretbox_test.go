package secretbox

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestSealOpen(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	sealed, err := Seal(key, "hunter2 æøå", "cdr_sinks/1")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("hunter2")) {
		t.Fatal("the sealed secret contains the plaintext")
	}
	if got, err := Open(key, sealed, "cdr_sinks/1"); err != nil || got != "hunter2 æøå" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	again, _ := Seal(key, "hunter2 æøå", "cdr_sinks/1")
	if bytes.Equal(sealed, again) {
		t.Error("two seals of one secret are equal: the nonce is not fresh")
	}
	for name, tc := range map[string]struct {
		key    []byte
		sealed []byte
		aad    string
	}{
		"another row's ciphertext does not open": {key, sealed, "cdr_sinks/2"},
		"another key does not open":              {bytes.Repeat([]byte{8}, 32), sealed, "cdr_sinks/1"},
		"a short key is refused":                 {key[:16], sealed, "cdr_sinks/1"},
		"a truncated ciphertext is refused":      {key, sealed[:5], "cdr_sinks/1"},
		"a flipped bit is refused":               {key, append(append([]byte{}, sealed[:len(sealed)-1]...), sealed[len(sealed)-1]^1), "cdr_sinks/1"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Open(tc.key, tc.sealed, tc.aad)
			if !errors.Is(err, ErrKey) || strings.Contains(err.Error(), "hunter2") {
				t.Errorf("err %v, want ErrKey without the secret", err)
			}
		})
	}
}
