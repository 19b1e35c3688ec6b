package sipcall

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"math/bits"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"
	"github.com/pion/srtp/v3"
)

// cryptoSuite is an SRTP crypto-suite that SDES can name (RFC 4568 §6.2,
// AES-256 counter mode of RFC 6188 §7.1, AES-GCM of RFC 7714 §12) and
// that pion/srtp implements.
type cryptoSuite struct {
	Name    string
	Profile srtp.ProtectionProfile
	// KeyLen and SaltLen are the master key and master salt lengths in
	// bytes; inline key material is their concatenation.
	KeyLen, SaltLen int
}

// cryptoSuites are the suites we accept. Which one a call uses is the
// offerer's choice: we take the first a=crypto line we support (RFC 4568
// §7.1.2), so the order here does not matter.
var cryptoSuites = []cryptoSuite{
	{"AES_CM_128_HMAC_SHA1_80", srtp.ProtectionProfileAes128CmHmacSha1_80, 16, 14},
	{"AES_CM_128_HMAC_SHA1_32", srtp.ProtectionProfileAes128CmHmacSha1_32, 16, 14},
	{"AES_256_CM_HMAC_SHA1_80", srtp.ProtectionProfileAes256CmHmacSha1_80, 32, 14},
	{"AES_256_CM_HMAC_SHA1_32", srtp.ProtectionProfileAes256CmHmacSha1_32, 32, 14},
	{"AEAD_AES_128_GCM", srtp.ProtectionProfileAeadAes128Gcm, 16, 12},
	{"AEAD_AES_256_GCM", srtp.ProtectionProfileAeadAes256Gcm, 32, 12},
}

// suiteByName returns the suite named name (case-sensitive, as RFC 4568
// §9.2 registers them).
func suiteByName(name string) (cryptoSuite, bool) {
	for _, s := range cryptoSuites {
		if s.Name == name {
			return s, true
		}
	}
	return cryptoSuite{}, false
}

// minKeyLifetime is the smallest master key lifetime we accept, in
// packets. We do not rekey when a lifetime runs out (RFC 4568 §6.1 says
// the key must then no longer be used), so we take only lifetimes no call
// reaches: 2^31 packets is over a year of audio. Real endpoints send 2^31
// (Polycom) or 2^48 (Cisco).
const minKeyLifetime = 1 << 31

// maxKeyLifetime is the SRTP maximum, 2^48 packets (RFC 3711 §9.2).
const maxKeyLifetime = 1 << 48

// maxMKILen bounds the MKI length in bytes (RFC 4568 §6.1: 1 to 128).
const maxMKILen = 128

// sdesKey is one key-param of an a=crypto line: inline key material and
// its optional lifetime and MKI (RFC 4568 §6.1).
type sdesKey struct {
	// Material is the master key followed by the master salt.
	Material []byte
	// Lifetime is the key's lifetime in packets; 0 when not given.
	Lifetime uint64
	// MKI is the master key identifier as carried in packets, its
	// value big-endian in the MKI length; nil when not used.
	MKI []byte
}

// cryptoAttr is a parsed a=crypto attribute (RFC 4568 §9.1):
// "tag crypto-suite key-params [session-params]".
type cryptoAttr struct {
	Tag   uint32
	Suite string
	Keys  []sdesKey
	// Params are the session parameters as written.
	Params []string
}

// parseCrypto parses the value of an a=crypto attribute. It checks the
// syntax only; acceptCrypto decides whether we can use it. It never
// panics on any input.
func parseCrypto(v string) (cryptoAttr, error) {
	fields := strings.Fields(v)
	if len(fields) < 3 {
		return cryptoAttr{}, fmt.Errorf("%w: a=crypto needs a tag, a suite and key parameters", ErrBadCrypto)
	}
	// RFC 4568 §9.1: tag = 1*9DIGIT.
	if len(fields[0]) > 9 {
		return cryptoAttr{}, fmt.Errorf("%w: tag %q too long", ErrBadCrypto, fields[0])
	}
	tag, err := strconv.ParseUint(fields[0], 10, 32)
	if err != nil {
		return cryptoAttr{}, fmt.Errorf("%w: tag %q is not a number", ErrBadCrypto, fields[0])
	}
	a := cryptoAttr{Tag: uint32(tag), Suite: fields[1], Params: fields[3:]}
	for kp := range strings.SplitSeq(fields[2], ";") {
		k, err := parseKeyParam(kp)
		if err != nil {
			return cryptoAttr{}, err
		}
		a.Keys = append(a.Keys, k)
	}
	return a, nil
}

// parseKeyParam parses "inline:key-salt[|lifetime][|mki:length]"
// (RFC 4568 §6.1, §9.2).
func parseKeyParam(kp string) (sdesKey, error) {
	method, info, ok := strings.Cut(kp, ":")
	if !ok || !strings.EqualFold(method, "inline") {
		return sdesKey{}, fmt.Errorf("%w: key method must be inline", ErrBadCrypto)
	}
	parts := strings.Split(info, "|")
	if len(parts) > 3 {
		return sdesKey{}, fmt.Errorf("%w: too many key fields", ErrBadCrypto)
	}
	material, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(parts[0], "="))
	if err != nil || len(material) == 0 {
		return sdesKey{}, fmt.Errorf("%w: key is not base64", ErrBadCrypto)
	}
	k := sdesKey{Material: material}
	for i, p := range parts[1:] {
		if value, length, isMKI := strings.Cut(p, ":"); isMKI {
			if k.MKI, err = parseMKI(value, length); err != nil {
				return sdesKey{}, err
			}
			continue
		}
		if i > 0 || k.MKI != nil {
			return sdesKey{}, fmt.Errorf("%w: lifetime after MKI", ErrBadCrypto)
		}
		if k.Lifetime, err = parseLifetime(p); err != nil {
			return sdesKey{}, err
		}
	}
	return k, nil
}

// parseLifetime reads a key lifetime, "2^31" or a decimal count.
func parseLifetime(s string) (uint64, error) {
	if exp, ok := strings.CutPrefix(s, "2^"); ok {
		n, err := strconv.ParseUint(exp, 10, 8)
		if err != nil || n > 63 {
			return 0, fmt.Errorf("%w: lifetime %q", ErrBadCrypto, s)
		}
		return 1 << n, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("%w: lifetime %q", ErrBadCrypto, s)
	}
	return n, nil
}

// parseMKI reads "value:length" into the MKI's bytes: value big-endian in
// length bytes (RFC 4568 §6.1).
func parseMKI(value, length string) ([]byte, error) {
	n, err := strconv.ParseUint(length, 10, 8)
	if err != nil || n < 1 || n > maxMKILen {
		return nil, fmt.Errorf("%w: MKI length %q", ErrBadCrypto, length)
	}
	v, err := strconv.ParseUint(value, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("%w: MKI value %q", ErrBadCrypto, value)
	}
	if n < 8 && bits.Len64(v) > int(n)*8 {
		return nil, fmt.Errorf("%w: MKI value %d does not fit %d bytes", ErrBadCrypto, v, n)
	}
	mki := make([]byte, n)
	for i := len(mki) - 1; i >= 0 && v > 0; i-- {
		mki[i] = byte(v)
		v >>= 8
	}
	return mki, nil
}

// sdesParams are the session parameters we honour (RFC 4568 §6.3).
type sdesParams struct {
	// UnencryptedSRTP and UnencryptedSRTCP leave the payloads in the
	// clear, authenticated only (§6.3.2, §6.3.3); both directions do so.
	UnencryptedSRTP  bool
	UnencryptedSRTCP bool
	// WSH is the replay window size hint, 0 when not given (§6.3.7).
	WSH uint
}

// acceptCrypto decides whether we can use the parsed line a and returns
// its suite and parameters, or why not (RFC 4568 §6: a crypto line we
// cannot honour in full is declined, and another one may be taken).
func acceptCrypto(a cryptoAttr) (cryptoSuite, sdesParams, error) {
	suite, ok := suiteByName(a.Suite)
	if !ok {
		return cryptoSuite{}, sdesParams{}, fmt.Errorf("%w: suite %q", ErrUnsupportedCrypto, a.Suite)
	}
	if len(a.Keys) > 1 && a.Keys[0].MKI == nil {
		// §6.1: several keys are told apart by their MKI only.
		return cryptoSuite{}, sdesParams{}, fmt.Errorf("%w: several keys without MKI", ErrBadCrypto)
	}
	for _, k := range a.Keys {
		if len(k.Material) != suite.KeyLen+suite.SaltLen {
			return cryptoSuite{}, sdesParams{}, fmt.Errorf("%w: %s key of %d bytes, want %d",
				ErrBadCrypto, suite.Name, len(k.Material), suite.KeyLen+suite.SaltLen)
		}
		if k.Lifetime != 0 && (k.Lifetime < minKeyLifetime || k.Lifetime > maxKeyLifetime) {
			return cryptoSuite{}, sdesParams{}, fmt.Errorf("%w: key lifetime %d outside [2^31, 2^48]", ErrUnsupportedCrypto, k.Lifetime)
		}
		if len(k.MKI) != len(a.Keys[0].MKI) {
			return cryptoSuite{}, sdesParams{}, fmt.Errorf("%w: MKI lengths differ", ErrBadCrypto)
		}
	}
	var p sdesParams
	for _, sp := range a.Params {
		name, value, _ := strings.Cut(sp, "=")
		switch name {
		case "UNENCRYPTED_SRTP":
			p.UnencryptedSRTP = true
		case "UNENCRYPTED_SRTCP":
			p.UnencryptedSRTCP = true
		case "KDR":
			// §6.3.1: a key derivation rate other than 0 is not
			// implemented by pion/srtp.
			if value != "0" {
				return cryptoSuite{}, sdesParams{}, fmt.Errorf("%w: KDR=%s", ErrUnsupportedCrypto, value)
			}
		case "WSH":
			n, err := strconv.ParseUint(value, 10, 16)
			if err != nil || n < 64 {
				return cryptoSuite{}, sdesParams{}, fmt.Errorf("%w: WSH=%s", ErrBadCrypto, value)
			}
			p.WSH = uint(n)
		case "FEC_ORDER":
			// §6.3.5: we do no FEC, so the order is moot.
		default:
			// §6.3.6 FEC_KEY, UNAUTHENTICATED_SRTP (§6.3.4, not in
			// pion/srtp) and anything unknown decline the line; a
			// parameter starting with "-" may be ignored (§9.2).
			if !strings.HasPrefix(sp, "-") {
				return cryptoSuite{}, sdesParams{}, fmt.Errorf("%w: session parameter %q", ErrUnsupportedCrypto, name)
			}
		}
	}
	return suite, p, nil
}

// sdesKeys is the SDES outcome of one m-line: the line of the offer we
// took and our own key for what we send. RFC 4568 §5.1: each side sends
// with the key it declared.
type sdesKeys struct {
	Tag    uint32
	Suite  cryptoSuite
	Params sdesParams
	// Remote are the peer's keys, for what we receive; Local is our
	// master key and salt, for what we send.
	Remote []sdesKey
	Local  []byte
}

// chooseCrypto returns the first a=crypto line of md we support, with a
// fresh key of our own, and whether there was one; offered reports
// whether md carries any a=crypto line at all.
func chooseCrypto(md *sdp.MediaDescription) (k sdesKeys, ok, offered bool, err error) {
	for _, attr := range md.Attributes {
		if attr.Key != "crypto" {
			continue
		}
		offered = true
		a, perr := parseCrypto(attr.Value)
		if perr != nil {
			continue
		}
		suite, params, aerr := acceptCrypto(a)
		if aerr != nil {
			continue
		}
		local, kerr := newMasterKey(suite)
		if kerr != nil {
			return sdesKeys{}, false, true, kerr
		}
		return sdesKeys{Tag: a.Tag, Suite: suite, Params: params, Remote: a.Keys, Local: local}, true, true, nil
	}
	return sdesKeys{}, false, offered, nil
}

// newMasterKey returns a fresh master key and salt for suite from
// crypto/rand (RFC 4568 §8.1: keys must be random and never reused).
func newMasterKey(suite cryptoSuite) ([]byte, error) {
	b := make([]byte, suite.KeyLen+suite.SaltLen)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("sipcall: srtp key: %w", err)
	}
	return b, nil
}

// answerCrypto is our a=crypto value answering k: the tag and suite the
// offer chose, our key, and the declarative parameters that apply to both
// directions (RFC 4568 §6.3.2, §6.3.3, §7.1.2).
func answerCrypto(k *sdesKeys) string {
	var b strings.Builder
	b.WriteString(strconv.FormatUint(uint64(k.Tag), 10))
	b.WriteByte(' ')
	b.WriteString(k.Suite.Name)
	b.WriteString(" inline:")
	b.WriteString(stdB64(k.Local))
	if k.Params.UnencryptedSRTP {
		b.WriteString(" UNENCRYPTED_SRTP")
	}
	if k.Params.UnencryptedSRTCP {
		b.WriteString(" UNENCRYPTED_SRTCP")
	}
	return b.String()
}

// String names the suite but never the keys, so that a logged sdesKeys
// gives nothing away.
func (k sdesKeys) String() string {
	return fmt.Sprintf("SDES tag %d %s", k.Tag, k.Suite.Name)
}

// LogValue keeps keys out of slog output.
func (k sdesKeys) LogValue() slog.Value { return slog.StringValue(k.String()) }

// stdB64 encodes key material for an inline key-param.
func stdB64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
