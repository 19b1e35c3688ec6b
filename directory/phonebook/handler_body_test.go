package phonebook

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/bifrost-video/bifrost/directory"
	"github.com/bifrost-video/bifrost/migrations/pgtest"
)

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// TestReadBody: a body up to the limit is read whole, however it arrives;
// one byte more is ErrTooLarge, read no further than that byte; a
// Content-Length over the limit is refused before anything is read; a
// reader's error is the caller's error. The pooled buffer serves the next
// body without its predecessor showing through.
func TestReadBody(t *testing.T) {
	s := NewServer(Config{}, Deps{})
	const limit = 1000
	read := func(body io.Reader, contentLength int64) ([]byte, error) {
		r := httptest.NewRequest(http.MethodPost, "/", body)
		r.ContentLength = contentLength
		b, p, err := s.readBody(r, limit)
		out := bytes.Clone(b)
		s.putBody(p)
		return out, err
	}
	exact := strings.Repeat("x", limit)
	for _, tt := range []struct {
		name   string
		body   io.Reader
		length int64
	}{
		{"with its length", strings.NewReader(exact), limit},
		{"without its length (chunked)", strings.NewReader(exact), -1},
		{"one byte at a time", iotest.OneByteReader(strings.NewReader(exact)), -1},
		{"with EOF along the last bytes", iotest.DataErrReader(strings.NewReader(exact)), -1},
	} {
		got, err := read(tt.body, tt.length)
		if err != nil || string(got) != exact {
			t.Errorf("%s: %d bytes, %v; want the %d bytes", tt.name, len(got), err, limit)
		}
	}
	if got, err := read(strings.NewReader("short"), -1); err != nil || string(got) != "short" {
		t.Errorf("a short body after a long one: %q, %v", got, err)
	}
	if got, err := read(http.NoBody, 0); err != nil || len(got) != 0 {
		t.Errorf("no body: %q, %v", got, err)
	}

	over := &countingReader{r: strings.NewReader(strings.Repeat("y", 10*limit))}
	if _, err := read(over, -1); !errors.Is(err, ErrTooLarge) || over.n > limit+1 {
		t.Errorf("a chunked body over the limit: %v after %d bytes read, want ErrTooLarge after at most %d", err, over.n, limit+1)
	}
	declared := &countingReader{r: strings.NewReader(strings.Repeat("y", 10*limit))}
	if _, err := read(declared, 10*limit); !errors.Is(err, ErrTooLarge) || declared.n != 0 {
		t.Errorf("a Content-Length over the limit: %v after %d bytes read, want ErrTooLarge before reading", err, declared.n)
	}
	broken := errors.New("connection reset")
	if _, err := read(iotest.ErrReader(broken), -1); !errors.Is(err, broken) {
		t.Errorf("a failing body: %v, want %v", err, broken)
	}
}

// TestRedact: the token leaves every form of the path, whatever follows it.
func TestRedact(t *testing.T) {
	const secret = "pbk_secret"
	for in, want := range map[string]string{
		"/pb/pbk_secret" + TMSPath:               "/pb/{token}" + TMSPath,
		"/pb/pbk_secret" + YealinkDirPath:        "/pb/{token}" + YealinkDirPath,
		"/pb/pbk_secret" + CiscoDirPath + "?q=a": "/pb/{token}" + CiscoDirPath + "?q=a",
		"/pb/pbk_secret/unknown":                 "/pb/{token}/unknown",
		"/other/pbk_secret" + TMSPath:            "/other/{token}" + TMSPath,
		"/pb/another" + TMSPath:                  "/pb/another" + TMSPath,
		"":                                       "",
	} {
		if got := redact(in, secret); got != want {
			t.Errorf("redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestAnswersCarryTheirLength: a browse answer of 50 entries (far over
// net/http's 2 KiB before it chunks) goes out with Content-Length, not
// chunked, and the headers every answer carries.
func TestAnswersCarryTheirLength(t *testing.T) {
	db := pgtest.New(t)
	org := newOrg(t, db, "Alpha")
	var people []string
	for i := range 60 {
		people = append(people, "Person "+itoa(i+1000))
	}
	manualDirectory(t, directory.NewStore(db, nil), org, map[string][]string{"Oslo": people})
	e := newEnv(t, db, Config{})
	token := e.newToken(t, org, TokenInput{})
	folder := e.folderID(t, token, "Oslo")
	req, _ := http.NewRequest("POST", e.srv.URL+"/pb/"+token+TMSPath, strings.NewReader(searchBody(folder, "", 50, "")))
	req.Header.Set("SOAPAction", `"`+TMSNS+`Search"`)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || strings.Count(string(body), "<Entry>") != 50 {
		t.Fatalf("HTTP %d with %d entries", resp.StatusCode, strings.Count(string(body), "<Entry>"))
	}
	if resp.ContentLength != int64(len(body)) || len(resp.TransferEncoding) != 0 {
		t.Errorf("Content-Length %d, Transfer-Encoding %v for a body of %d bytes", resp.ContentLength, resp.TransferEncoding, len(body))
	}
	if ct, cc := resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"); ct != tmsContentType || cc != "no-store" {
		t.Errorf("Content-Type %q, Cache-Control %q", ct, cc)
	}
}
