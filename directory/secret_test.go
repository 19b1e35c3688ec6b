package directory

import (
	"bytes"
	"errors"
	"testing"
)

func TestSecretSealsAndOpensOnlyWithTheKeyAndRow(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	sealed, err := sealSecret(key, "videosync-test-only", secretAAD("a"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("videosync")) {
		t.Fatal("the sealed secret contains the plaintext")
	}
	if got, err := openSecret(key, sealed, secretAAD("a")); err != nil || got != "videosync-test-only" {
		t.Errorf("openSecret = %q, %v", got, err)
	}
	if _, err := openSecret(key, sealed, secretAAD("b")); !errors.Is(err, ErrSecretKey) {
		t.Errorf("opened with another row's AAD: %v", err)
	}
	if _, err := openSecret(bytes.Repeat([]byte{8}, 32), sealed, secretAAD("a")); !errors.Is(err, ErrSecretKey) {
		t.Errorf("opened with another key: %v", err)
	}
	if _, err := sealSecret(key[:16], "x", ""); !errors.Is(err, ErrSecretKey) {
		t.Errorf("a 16-byte key: %v", err)
	}
}

func TestMapKind(t *testing.T) {
	for v, want := range map[string]Kind{"MeetingRoom": KindRoom, "room": KindRoom, "Employee": KindPerson, "": KindPerson, "Video endpoint": KindEndpoint} {
		if got := mapKind(v); got != want {
			t.Errorf("mapKind(%q) = %s, want %s", v, got, want)
		}
	}
}

func TestMappingAttributesAreTheOnesTemplatesRead(t *testing.T) {
	c, err := DefaultMapping().Compile()
	if err != nil {
		t.Fatal(err)
	}
	got := c.attributes()
	for _, a := range []string{"displayname", "labeleduri", "telephonenumber", "mobile", "employeetype"} {
		found := false
		for _, g := range got {
			found = found || g == a
		}
		if !found {
			t.Errorf("attributes() = %q lacks %s", got, a)
		}
	}
}

func TestRecordKeys(t *testing.T) {
	// objectGUID {01020304-0506-0708-090a-0b0c0d0e0f10} as AD sends it: the
	// first three groups little-endian.
	raw := []byte{4, 3, 2, 1, 6, 5, 8, 7, 9, 10, 11, 12, 13, 14, 15, 16}
	rec := &ldapRecord{dn: "CN=A,DC=corp", attrs: []ldapAttr{{name: "entryUUID", vals: []string{"5D2C9E5A-0000-4000-8000-000000000001"}},
		{name: "objectGUID", vals: []string{string(raw)}}}}
	if k, err := rec.key("objectGUID"); err != nil || k != "01020304-0506-0708-090a-0b0c0d0e0f10" {
		t.Errorf("objectGUID key = %q, %v", k, err)
	}
	if k, err := rec.key("entryUUID"); err != nil || k != "5d2c9e5a-0000-4000-8000-000000000001" {
		t.Errorf("entryUUID key = %q, %v", k, err)
	}
	if _, err := (&ldapRecord{}).key("entryUUID"); err == nil {
		t.Error("a record without a key gave one")
	}
}
