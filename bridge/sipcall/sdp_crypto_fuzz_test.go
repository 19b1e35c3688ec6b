package sipcall

import (
	"path/filepath"
	"strings"
	"testing"
)

// FuzzCrypto feeds arbitrary a=crypto values through what an offer's
// crypto lines go through: parsing, the acceptance rules, the SRTP
// contexts for an accepted line and our answer to it. Whatever the
// input, the outcome is an error or a line whose answer parses again and
// whose contexts build; never a panic. Seeds are the crypto lines of the
// shared real-world captures.
func FuzzCrypto(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(sharedTestdata, "sip", "*.s[id]p"))
	for _, p := range files {
		for line := range strings.SplitSeq(string(fixtureBody(f, p)), "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "a=crypto:"); ok {
				f.Add(v)
			}
		}
	}
	f.Add("1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^31|1:1;inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^31|2:1 UNENCRYPTED_SRTCP WSH=128")
	f.Add("3 AEAD_AES_256_GCM inline:AAcOFRwjKjE4P0ZNVFtiaXB3foWMk5qhqK+2vcTL0tnd5Ovy+QAHDhUcIyoxOD9GTQ== -X")
	f.Fuzz(func(t *testing.T, value string) {
		a, err := parseCrypto(value)
		if err != nil {
			return
		}
		suite, params, err := acceptCrypto(a)
		if err != nil {
			return
		}
		local, err := newMasterKey(suite)
		if err != nil {
			t.Fatal(err)
		}
		k := &sdesKeys{Tag: a.Tag, Suite: suite, Params: params, Remote: a.Keys, Local: local}
		if _, err := newSRTPCrypto(k, nil); err != nil {
			t.Fatalf("accepted %q but cannot key SRTP: %v", value, err)
		}
		back, err := parseCrypto(answerCrypto(k))
		if err != nil {
			t.Fatalf("our answer %q does not parse: %v", answerCrypto(k), err)
		}
		if _, p2, err := acceptCrypto(back); err != nil || p2.UnencryptedSRTP != params.UnencryptedSRTP || p2.UnencryptedSRTCP != params.UnencryptedSRTCP {
			t.Fatalf("our answer %q is not what we took: %v", answerCrypto(k), err)
		}
	})
}
